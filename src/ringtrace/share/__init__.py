"""Sharing with partner agencies in their formats: STIX 2.1 (and later TAXII and MISP)."""
