"""Triage: how urgent a new report is, and why."""
