"""Imports every built-in extractor module so that each registers itself."""

from ringtrace.indicators import handles, network, payments, phones

__all__ = ["handles", "network", "payments", "phones"]
