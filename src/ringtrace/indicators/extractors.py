"""Imports every built-in extractor module so that each registers itself."""

from ringtrace.indicators import crypto, handles, hashes, network, packages, payments, phones

__all__ = ["crypto", "handles", "hashes", "network", "packages", "payments", "phones"]
