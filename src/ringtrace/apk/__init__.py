"""Static analysis of Android apps (never run)."""
