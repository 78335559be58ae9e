"""Parsing and validating incoming reports (report-v1)."""
