"""Cryptocurrency addresses, validated by their own checksums where they have one.

Bitcoin and Litecoin: base58check (legacy) and bech32/bech32m (BIP-173, BIP-350) for segwit.
TRON (USDT-TRC20): base58check with version byte 0x41. Ethereum: 20 bytes hex, with the
EIP-55 checksum enforced only when the address is written in mixed case (Keccak-256 from
pycryptodome). Monero: format only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from Crypto.Hash import keccak

from ringtrace.indicators.gated import Gated
from ringtrace.indicators.registry import Candidate, Context, text_extractor

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3


def b58decode_check(text: str) -> bytes | None:
    if not text or any(c not in _B58_INDEX for c in text) or len(text) > 120:
        return None
    n = 0
    for c in text:
        n = n * 58 + _B58_INDEX[c]
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return payload


def bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _convertbits(data: list[int], frombits: int, tobits: int) -> list[int] | None:
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for v in data:
        acc = (acc << frombits) | v
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


def segwit_decode(hrp: str, addr: str) -> tuple[int, bytes] | None:
    """Decode a segwit address for ``hrp`` (BIP-173/BIP-350); None when invalid."""
    if addr.lower() != addr and addr.upper() != addr:
        return None
    addr = addr.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr) or len(addr) > 90 or addr[:pos] != hrp:
        return None
    if any(c not in BECH32_CHARSET for c in addr[pos + 1 :]):
        return None
    data = [BECH32_CHARSET.find(c) for c in addr[pos + 1 :]]
    hrp_exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = bech32_polymod(hrp_exp + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        return None
    version, body = data[0], data[1:-6]
    if version > 16:
        return None
    prog = _convertbits(body, 5, 8)
    if prog is None or not 2 <= len(prog) <= 40:
        return None
    if version == 0 and len(prog) not in (20, 32):
        return None
    if (version == 0) != (const == _BECH32_CONST):
        return None
    return version, bytes(prog)


_ETH = re.compile(r"^0x[0-9a-fA-F]{40}$")
_XMR = re.compile(r"^[48][1-9A-HJ-NP-Za-km-z]{94}(?:[1-9A-HJ-NP-Za-km-z]{11})?$")


_URI_SCHEMES = frozenset({"bitcoin", "litecoin", "ethereum", "tron", "usdt"})


def normalise_wallet(raw: str) -> tuple[str, dict[str, str]] | None:
    """Canonical address and ``{"chain": ...}`` of a valid wallet address, else None. A
    payment URI (BIP-21 ``bitcoin:<address>?amount=…``, ``ethereum:``, ``tron:``) is its
    address: the scheme and the query are how a wallet app shares it, not part of it."""
    text = raw.strip()
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() in _URI_SCHEMES:
        text = rest.removeprefix("//").split("?", 1)[0].strip()
    low = text.lower()
    for hrp, chain in (("bc", "bitcoin"), ("tb", "bitcoin-testnet"), ("ltc", "litecoin")):
        if low.startswith(hrp + "1") and segwit_decode(hrp, text) is not None:
            return low, {"chain": chain}
    if _ETH.match(text):
        if not _eip55_ok(text):
            return None
        return low, {"chain": "ethereum"}
    if _XMR.match(text):
        return text, {"chain": "monero"}
    payload = b58decode_check(text)
    if payload is None:
        return None
    version = payload[0]
    if len(payload) == 21:
        if version in (0x00, 0x05):
            return text, {"chain": "bitcoin"}
        if version == 0x41:
            return text, {"chain": "tron"}
        if version in (0x30, 0x32):
            return text, {"chain": "litecoin"}
    return None


def _eip55_ok(address: str) -> bool:
    body = address[2:]
    if body.lower() == body or body.upper() == body:
        return True  # no checksum written
    digest = keccak.new(digest_bits=256, data=body.lower().encode()).hexdigest()
    return all(
        (c.upper() if int(h, 16) >= 8 else c.lower()) == c
        for c, h in zip(body, digest[:40], strict=True)
        if c.isalpha()
    )


_WALLET_TEXT = re.compile(
    r"(?=[bBtTlL01348MT])(?<![0-9A-Za-z])(?:"  # the lookahead: a match's first characters
    r"(?:bc|tb|ltc|BC|TB|LTC)1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87}"
    r"|0x[0-9a-fA-F]{40}"
    r"|[48][1-9A-HJ-NP-Za-km-z]{94}(?:[1-9A-HJ-NP-Za-km-z]{11})?"
    r"|[13LMT][1-9A-HJ-NP-Za-km-z]{25,34}"
    r")(?![0-9A-Za-z])"
)

# Searched through a gate (indicators/gated.py): a first character at a word start and the
# eight more letters or digits the shortest address (bc1 and six) has.
_WALLET_SCAN = Gated(_WALLET_TEXT, r"[bBtTlL01348MT](?<![0-9A-Za-z][bBtTlL01348MT])[0-9A-Za-z]{8}")


@text_extractor
class WalletExtractor:
    """Wallet addresses in free text, kept only when their checksum holds."""

    name = "wallet"
    version = "1"

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        for m in _WALLET_SCAN.finditer(text):
            norm = normalise_wallet(m.group(0))
            if norm is not None:
                yield Candidate(
                    "crypto_wallet",
                    norm[0],
                    m.group(0),
                    m.start(),
                    m.end(),
                    norm[1],
                    container=True,
                )
