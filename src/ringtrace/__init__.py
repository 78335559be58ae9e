"""ringtrace: link victims' sextortion reports into explained, evidence-backed clusters."""

__version__ = "0.1.0"
