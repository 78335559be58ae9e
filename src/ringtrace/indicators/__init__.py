"""Extraction, validation and normalisation of indicators.

Importing this package registers the built-in extractors; a new indicator type is one more
registered extractor (see :mod:`ringtrace.indicators.registry`).
"""

from ringtrace.indicators import extractors as _extractors  # noqa: F401  (registers built-ins)
from ringtrace.indicators.report import extract_report, extract_text

__all__ = ["extract_report", "extract_text"]
