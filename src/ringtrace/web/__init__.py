"""The web edge: FastAPI app with the public report page, analyst console and JSON API."""
