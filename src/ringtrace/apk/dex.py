"""Read only what the analysis needs from a DEX file: the string, type, field and method
reference tables, the classes' method lists with their code, and the references each
method's bytecode makes (invokes, static field reads, string and class constants).

Why not androguard's ``DEX``: it parses and decodes everything up front, which took 1.7 s for
a 4.4 MB classes.dex here. Most of that work is not needed to find behaviours and endpoints.
This reader follows the published format (source.android.com/docs/core/runtime/dex-format)
and decodes a method's bytecode only when it can hold a reference of interest
(docs/decisions.md). Every read is bounds-checked: a malformed file raises
:class:`DexError` and nothing else.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

HEADER_SIZE = 0x70
NO_INDEX = 0xFFFFFFFF


class DexError(ValueError):
    pass


# Instruction width in 16-bit code units, by opcode (formats from the Dalvik bytecode spec).
_W = [1] * 256
for _op, _w in {
    0x02: 2, 0x03: 3, 0x05: 2, 0x06: 3, 0x08: 2, 0x09: 3, 0x13: 2, 0x14: 3, 0x15: 2,
    0x16: 2, 0x17: 3, 0x18: 5, 0x19: 2, 0x1A: 2, 0x1B: 3, 0x1C: 2, 0x1F: 2, 0x20: 2,
    0x22: 2, 0x23: 2, 0x24: 3, 0x25: 3, 0x26: 3, 0x29: 2, 0x2A: 3, 0x2B: 3, 0x2C: 3,
    0xFA: 4, 0xFB: 4, 0xFC: 3, 0xFD: 3, 0xFE: 2, 0xFF: 2,
}.items():  # fmt: skip
    _W[_op] = _w
for _lo, _hi, _w in ((0x2D, 0x31, 2), (0x32, 0x3D, 2), (0x44, 0x51, 2), (0x52, 0x5F, 2),
                     (0x60, 0x6D, 2), (0x6E, 0x72, 3), (0x74, 0x78, 3), (0x90, 0xAF, 2),
                     (0xD0, 0xE2, 2)):  # fmt: skip
    for _op in range(_lo, _hi + 1):
        _W[_op] = _w
WIDTH = tuple(_W)

# What the index in an instruction refers to.
INVOKE = frozenset(range(0x6E, 0x73)) | frozenset(range(0x74, 0x79)) | {0xFA, 0xFB}
SFIELD = frozenset(range(0x60, 0x67))  # sget*: a static field read
IGET = frozenset(range(0x52, 0x59))  # iget*: an instance field read
PUT = frozenset(range(0x59, 0x60)) | frozenset(range(0x67, 0x6E))  # iput*, sput*: a write
CONST_STRING = 0x1A
CONST_STRING_JUMBO = 0x1B
TYPE_REF = frozenset({0x1C, 0x22})  # const-class, new-instance


@dataclass(frozen=True)
class Ref:
    """One reference made by a method's bytecode at code unit ``pc``."""

    kind: str  # "method" | "field" (sget) | "field_get" (iget) | "field_put" | "string" | "type"
    index: int
    pc: int


@dataclass(frozen=True)
class Method:
    index: int  # into the method_ids table
    code_off: int
    insns_off: int
    insns_size: int  # in 16-bit units


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    if pos < len(data) and data[pos] < 0x80:  # the common one-byte case
        return data[pos], pos + 1
    result = shift = 0
    for _ in range(5):
        if pos >= len(data):
            raise DexError("truncated uleb128")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    raise DexError("uleb128 too long")


def _ulebs(data: bytes, pos: int, count: int) -> tuple[list[int], int]:
    """``count`` consecutive uleb128 values (IndexError if the data ends first)."""
    out: list[int] = []
    append = out.append
    for _ in range(count):
        b = data[pos]
        pos += 1
        if b < 0x80:
            append(b)
            continue
        result, shift = b & 0x7F, 7
        while True:
            b = data[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                break
            shift += 7
            if shift > 35:
                raise DexError("uleb128 too long")
        append(result)
    return out, pos


def _mutf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Modified UTF-8: NUL as C0 80 and surrogate pairs written one by one.
        try:
            text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:  # not even modified UTF-8: a damaged or hostile file
            return raw.decode("utf-8", "replace")
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Dex:
    def __init__(self, data: bytes) -> None:
        if len(data) < HEADER_SIZE or not data.startswith(b"dex\n") or data[7] != 0:
            raise DexError("not a DEX file")
        self.data = data
        self.version = data[4:7].decode("ascii", "replace")
        (
            self._str_n, self._str_off, self._type_n, self._type_off, self._proto_n,
            self._proto_off, self._field_n, self._field_off, self._meth_n, self._meth_off,
            self._class_n, self._class_off,
        ) = struct.unpack_from("<12I", data, 0x38)  # fmt: skip
        for n, off, size in (
            (self._str_n, self._str_off, 4), (self._type_n, self._type_off, 4),
            (self._proto_n, self._proto_off, 12), (self._field_n, self._field_off, 8),
            (self._meth_n, self._meth_off, 8), (self._class_n, self._class_off, 32),
        ):  # fmt: skip
            if n and (off < HEADER_SIZE or off + n * size > len(data)):
                raise DexError("a table lies outside the file")
        # An empty table's offset means nothing (and may point anywhere): read it as empty.
        for count, attr in (("_str_n", "_str_off"), ("_type_n", "_type_off"),
                            ("_field_n", "_field_off"), ("_meth_n", "_meth_off"),
                            ("_class_n", "_class_off")):  # fmt: skip
            if not getattr(self, count):
                setattr(self, attr, HEADER_SIZE)

    # -- tables -------------------------------------------------------------------------

    @cached_property
    def _string_offs(self) -> tuple[int, ...]:
        return struct.unpack_from(f"<{self._str_n}I", self.data, self._str_off)

    def string(self, i: int) -> str:
        """String ``i``, decoded on demand."""
        cache = self._string_cache
        if i not in cache:
            try:
                off = self._string_offs[i]
            except IndexError:
                raise DexError("a reference names a missing string") from None
            _, start = _uleb(self.data, off)
            end = self.data.find(b"\x00", start)
            if end < 0:
                raise DexError("unterminated string")
            cache[i] = _mutf8(self.data[start:end])
        return cache[i]

    @cached_property
    def _string_cache(self) -> dict[int, str]:
        return {}

    @property
    def strings(self) -> list[str]:
        """Every string (decodes them all; prefer :meth:`string` and :meth:`strings_matching`)."""
        return [self.string(i) for i in range(self._str_n)]

    def strings_matching(self, pattern: re.Pattern[bytes]) -> list[int]:
        """Indices of the strings whose encoded bytes contain ``pattern``: one regex pass over
        the string data, decoding nothing."""
        import bisect

        if not self._str_n:
            return []
        order = sorted(range(self._str_n), key=self._string_offs.__getitem__)
        starts = [self._string_offs[i] for i in order]
        lo, hi = starts[0], self.data.find(b"\x00", starts[-1]) + 1
        found = []
        seen = set()
        for m in pattern.finditer(self.data, lo, max(hi, lo)):
            k = bisect.bisect_right(starts, m.start()) - 1
            if k >= 0 and k not in seen:
                seen.add(k)
                found.append(order[k])
        return sorted(found)

    @cached_property
    def types(self) -> list[str]:
        idx = struct.unpack_from(f"<{self._type_n}I", self.data, self._type_off)
        return [self.string(i) for i in idx]

    @cached_property
    def _field_ids(self) -> list[tuple[int, int, int]]:
        end = self._field_off + 8 * self._field_n
        return list(struct.iter_unpack("<HHI", self.data[self._field_off : end]))

    @cached_property
    def _method_ids(self) -> list[tuple[int, int, int]]:
        end = self._meth_off + 8 * self._meth_n
        return list(struct.iter_unpack("<HHI", self.data[self._meth_off : end]))

    @property
    def method_count(self) -> int:
        return int(self._meth_n)

    def _sig(self, ids: list[tuple[int, int, int]], i: int) -> str:
        try:
            cls, _, name = ids[i]
            return f"{self.types[cls]}->{self.string(name)}"
        except IndexError:
            raise DexError("a reference names a missing entry") from None

    def method(self, i: int) -> str:
        """``Lclass;->name`` of method_id ``i`` (the descriptor is left out)."""
        return self._sig(self._method_ids, i)

    def field(self, i: int) -> str:
        return self._sig(self._field_ids, i)

    def _find(self, ids: list[tuple[int, int, int]], wanted: set[str]) -> dict[int, str]:
        classes = {w.split("->", 1)[0] for w in wanted}
        types = {i for i, t in enumerate(self.types) if t in classes}
        out = {}
        for i, (cls, _, _) in enumerate(ids):
            if cls in types:
                sig = self._sig(ids, i)
                if sig in wanted:
                    out[i] = sig
        return out

    def find_methods(self, wanted: set[str]) -> dict[int, str]:
        """method_id indices whose ``Lclass;->name`` is in ``wanted``."""
        return self._find(self._method_ids, wanted)

    def find_fields(self, wanted: set[str]) -> dict[int, str]:
        return self._find(self._field_ids, wanted)

    # -- identifiers ----------------------------------------------------------------------

    @cached_property
    def source_files(self) -> frozenset[int]:
        """String indices named as a class's source file in the debug info (``R.java``)."""
        out = set()
        for i in range(self._class_n):
            (idx,) = struct.unpack_from("<I", self.data, self._class_off + 32 * i + 16)
            if idx != NO_INDEX:
                out.add(idx)
        return frozenset(out)

    @cached_property
    def member_names(self) -> frozenset[str]:
        """The names of every field and method the file defines or references."""
        names = {n for _, _, n in self._field_ids} | {n for _, _, n in self._method_ids}
        return frozenset(self.string(i) for i in names if i < self._str_n)

    @cached_property
    def dotted_names(self) -> frozenset[str]:
        """Every type as a dotted Java name, every package prefix of one, and every simple
        class name: ``com.google.gson.Gson``, ``com.google``, ``Gson``, ``Gson$Builder``."""
        out: set[str] = set()
        for t in self.types:
            if not (t.startswith("L") and t.endswith(";")):
                continue
            parts = t[1:-1].split("/")
            out.add(parts[-1])
            out.update(parts[-1].split("$"))
            for k in range(1, len(parts) + 1):
                out.add(".".join(parts[:k]))
        return frozenset(out)

    # -- code -----------------------------------------------------------------------------

    @cached_property
    def defined_classes(self) -> list[str]:
        types = self.types
        out = []
        for i in range(self._class_n):
            (cls,) = struct.unpack_from("<I", self.data, self._class_off + 32 * i)
            if cls >= len(types):
                raise DexError("a class names a missing type")
            out.append(types[cls])
        return out

    def code_methods(self) -> list[Method]:
        """Every method with bytecode, from the class_data of each defined class, in the order
        of their code in the file."""
        return self._code_methods

    @cached_property
    def _code_methods(self) -> list[Method]:
        return sorted(self._walk_class_data(), key=lambda m: m.insns_off)

    @cached_property
    def code_by_index(self) -> dict[int, Method]:
        """The method with bytecode for each method_id this file defines."""
        return {m.index: m for m in self._code_methods}

    @cached_property
    def _code_starts(self) -> list[int]:
        return [m.insns_off for m in self._code_methods]

    def _walk_class_data(self) -> Iterator[Method]:
        data = self.data
        size = len(data)
        offsets = struct.unpack_from(f"<{8 * self._class_n}I", data, self._class_off)
        try:
            for i in range(self._class_n):
                pos = offsets[8 * i + 6]  # class_data_off
                if not pos:
                    continue
                (sf, inf, dm, vm), pos = _ulebs(data, pos, 4)
                # Fields: two ulebs each; methods: three (index diff, flags, code offset).
                _, pos = _ulebs(data, pos, 2 * (sf + inf))
                for count in (dm, vm):
                    vals, pos = _ulebs(data, pos, 3 * count)
                    idx = 0
                    for k in range(0, 3 * count, 3):
                        idx += vals[k]
                        code_off = vals[k + 2]
                        if not code_off:
                            continue
                        if code_off + 16 > size:
                            raise DexError("code lies outside the file")
                        (n,) = struct.unpack_from("<I", data, code_off + 12)
                        if code_off + 16 + 2 * n > size:
                            raise DexError("code lies outside the file")
                        yield Method(idx, code_off, code_off + 16, n)
        except IndexError:
            raise DexError("class data runs past the end of the file") from None

    def insns(self, m: Method) -> bytes:
        return self.data[m.insns_off : m.insns_off + 2 * m.insns_size]

    def refs(self, m: Method) -> Iterator[Ref]:
        """The references a method's bytecode makes, decoding instruction by instruction."""
        code = self.insns(m)
        n = m.insns_size
        units = struct.unpack(f"<{n}H", code)
        pc = 0
        while pc < n:
            unit = units[pc]
            op = unit & 0xFF
            if op == 0 and unit != 0:  # a data payload inside the code
                if unit == 0x0100 and pc + 1 < n:
                    pc += 4 + units[pc + 1] * 2
                elif unit == 0x0200 and pc + 1 < n:
                    pc += 2 + units[pc + 1] * 4
                elif unit == 0x0300 and pc + 3 < n:
                    width = units[pc + 1]
                    count = units[pc + 2] | (units[pc + 3] << 16)
                    pc += 4 + (count * width + 1) // 2
                else:
                    pc += 1
                continue
            w = WIDTH[op]
            if pc + w > n:
                break
            if op in INVOKE:
                yield Ref("method", units[pc + 1], pc)
            elif op in SFIELD:
                yield Ref("field", units[pc + 1], pc)
            elif op in IGET:
                yield Ref("field_get", units[pc + 1], pc)
            elif op in PUT:
                yield Ref("field_put", units[pc + 1], pc)
            elif op == CONST_STRING:
                yield Ref("string", units[pc + 1], pc)
            elif op == CONST_STRING_JUMBO:
                yield Ref("string", units[pc + 1] | (units[pc + 2] << 16), pc)
            elif op in TYPE_REF:
                yield Ref("type", units[pc + 1], pc)
            pc += w

    def methods_containing(self, pattern: re.Pattern[bytes]) -> list[Method]:
        """Methods whose bytecode contains ``pattern`` somewhere: one pass over the file."""
        import bisect

        methods = self._code_methods
        starts = self._code_starts
        out: list[Method] = []
        seen: set[int] = set()
        for hit in pattern.finditer(self.data, starts[0] if starts else 0):
            k = bisect.bisect_right(starts, hit.start()) - 1
            if k < 0:
                continue
            m = methods[k]
            if hit.start() + 2 <= m.insns_off + 2 * m.insns_size and k not in seen:
                seen.add(k)
                out.append(m)
        return out


_OPCODES = {
    "method": bytes(sorted(INVOKE)),
    "field": bytes(sorted(SFIELD)),
    "field_get": bytes(sorted(SFIELD | IGET)),
    "field_put": bytes(sorted(PUT)),
    "string": bytes([CONST_STRING]),
    "type": bytes(sorted(TYPE_REF)),
}


def index_pattern(kind: str, indices: set[int]) -> re.Pattern[bytes] | None:
    """A byte pattern for instructions of ``kind`` (an opcode that takes such an index, any
    register byte, then the 16-bit index) referring to any of ``indices``: a cheap filter
    before decoding. A hit may be a coincidence; decoding then decides. (const-string/jumbo,
    with a 32-bit index, is matched by the ``string`` kind too.)"""
    if not indices:
        return None
    ops = b"[" + b"".join(re.escape(bytes([o])) for o in _OPCODES[kind]) + b"]"
    idx = b"|".join(sorted({re.escape(struct.pack("<H", i & 0xFFFF)) for i in indices}))
    alternatives = [ops + b"." + b"(?:" + idx + b")"]
    if kind == "string":
        jumbo = b"|".join(sorted({re.escape(struct.pack("<I", i)) for i in indices}))
        alternatives.append(re.escape(bytes([CONST_STRING_JUMBO])) + b"." + b"(?:" + jumbo + b")")
    return re.compile(b"|".join(alternatives), re.DOTALL)
