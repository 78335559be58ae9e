"""Extraction, validation and normalisation of indicators.

The built-in extractors are registered on first use (any lookup in
:mod:`ringtrace.indicators.registry`, or using this package's ``extract_report`` or
``extract_text``); a new indicator type is one more registered extractor. Importing a light
submodule (``network``, ``warninglist``) does not load them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ringtrace.indicators.report import extract_report, extract_text

__all__ = ["extract_report", "extract_text"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ringtrace.indicators import registry, report

        registry.load_builtins()
        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
