#!/usr/bin/env python3
"""Independent reader for the Strata on-disk format, version 1.

Written from format-spec/format-v1.md alone (no Strata code consulted), so that
disagreements between this reader and Strata point at gaps in the spec.

Dependencies: Python 3.11 standard library, numpy (2.x), lz4, zstandard.

Usage:
    strata_read.py STORE TABLE [--version N] [--columns a,b,c] [--from DAY] [--to DAY]   (DAY: YYYYMMDD or YYYY-MM-DD)
    strata_read.py STORE --tables [--version N]
    strata_read.py STORE --verify [--version N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import sys
import zlib
from dataclasses import dataclass
from itertools import compress

import lz4.block
import numpy as np
import zstandard

READER_VERSION = 1  # "R" of spec section 1

# Section 9 limits.
MAX_COLUMNS = 1024
MAX_CHUNK_ROWS = 1_048_576
MAX_BLOCK_BYTES = 256 * 1024 * 1024
MAX_NAME_BYTES = 255
MAX_MANIFEST_PAYLOAD = 256 * 1024 * 1024
MAX_DECIMAL_EXP = 15
MAX_BIT_WIDTH = 64

HEADER_SIZE = 64
TRAILER_SIZE = 32
FOOTER_HEADER_SIZE = 16
COLUMN_ENTRY_SIZE = 16
CHUNK_ENTRY_SIZE = 64

SEG_MAGIC = b"STRATSEG"
END_MAGIC = b"STRATEND"
MAN_MAGIC = b"STRATMAN"

# Logical types (section 3.4).
INT64, FLOAT64, DATE, STRING, BOOL, ENTITY = 1, 2, 3, 4, 5, 6
TYPE_NAMES = {INT64: "int64", FLOAT64: "float64", DATE: "date", STRING: "string",
              BOOL: "bool", ENTITY: "entity"}
TYPE_IDS = {v: k for k, v in TYPE_NAMES.items()}

# Encodings (section 4) and the logical types each may carry.
PLAIN, BITPACK, DELTA, RLE, DICT, DECIMAL = 0, 1, 2, 3, 4, 5
ENCODING_NAMES = {PLAIN: "PLAIN", BITPACK: "BITPACK", DELTA: "DELTA", RLE: "RLE",
                  DICT: "DICT", DECIMAL: "DECIMAL"}
ENCODING_TYPES = {
    PLAIN: {INT64, FLOAT64, DATE, STRING, BOOL, ENTITY},
    BITPACK: {INT64, DATE, BOOL, ENTITY},
    DELTA: {INT64, DATE, ENTITY},
    RLE: {INT64, DATE, BOOL, ENTITY},
    DICT: {INT64, DATE, ENTITY, STRING},
    DECIMAL: {FLOAT64},
}

# Codecs (section 5).
CODEC_NONE, CODEC_LZ4, CODEC_ZSTD = 0, 1, 2

U64_MASK = (1 << 64) - 1
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
U32_MAX = (1 << 32) - 1

MANIFEST_NAME_RE = re.compile(r"^([0-9]{12})\.manifest$")


class StrataError(Exception):
    """Any problem with the store or its data; the CLI prints it and exits 1."""


def crc32(data) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


# --------------------------------------------------------------------------------------------
# Dates (proleptic Gregorian, days since 1970-01-01). Done by hand rather than with `datetime`
# because i32 day counts reach far outside datetime's years 1..9999.
# --------------------------------------------------------------------------------------------

def days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def yyyymmdd_from_days(days: np.ndarray) -> np.ndarray:
    """Vectorised inverse of days_from_civil, giving y*10000 + m*100 + d as int64."""
    z = days.astype(np.int64) + 719468
    era = z // 146097  # numpy // floors, which the algorithm needs for negative days
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = y + (m <= 2)
    return y * 10000 + m * 100 + d


def parse_yyyymmdd(text: str, what: str) -> int:
    """Command-line YYYYMMDD or YYYY-MM-DD -> the integer YYYYMMDD, rejecting impossible dates."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        text = text.replace("-", "")
    if not re.fullmatch(r"[0-9]{8}", text):
        raise StrataError(f"{what}: expected YYYYMMDD or YYYY-MM-DD, got {text!r}")
    v = int(text)
    yyyymmdd_to_days(v, what)
    return v


def yyyymmdd_to_days(v: int, what: str) -> int:
    y, m, d = v // 10000, v // 100 % 100, v % 100
    if not 1 <= m <= 12 or d < 1:
        raise StrataError(f"{what}: {v} is not a valid date")
    days = days_from_civil(y, m, d)
    # Round-tripping catches days past the end of the month (e.g. 20170230).
    if int(yyyymmdd_from_days(np.array([days]))[0]) != v:
        raise StrataError(f"{what}: {v} is not a valid date")
    return days


# --------------------------------------------------------------------------------------------
# CSV formatting
# --------------------------------------------------------------------------------------------

_CSV_SPECIAL = re.compile(r'[,"\n\r]')


def csv_field(s: str) -> str:
    if _CSV_SPECIAL.search(s):
        return '"' + s.replace('"', '""') + '"'
    return s


# --------------------------------------------------------------------------------------------
# Chunk decoding (sections 4 and 5). These functions raise StrataError with a bare message;
# the caller prefixes file, column and chunk index.
# --------------------------------------------------------------------------------------------

def decompress(stored: bytes, codec: int, encoded_size: int) -> bytes:
    if codec == CODEC_NONE:
        out = stored
    elif codec == CODEC_LZ4:
        try:
            out = lz4.block.decompress(stored, uncompressed_size=encoded_size)
        except Exception as e:  # lz4 raises its own LZ4BlockError type
            raise StrataError(f"LZ4 block does not decompress: {e}") from None
    elif codec == CODEC_ZSTD:
        out = _zstd_one_frame(stored, encoded_size)
    else:
        raise StrataError(f"unknown codec {codec}")
    if len(out) != encoded_size:
        raise StrataError(f"block decompresses to {len(out)} bytes, "
                          f"encodedSize says {encoded_size}")
    return out


def _zstd_one_frame(stored: bytes, encoded_size: int) -> bytes:
    try:
        # Bounded read first: a frame that claims (or expands to) more than encodedSize must not
        # be allowed to allocate unbounded memory.
        parts, total = [], 0
        with zstandard.ZstdDecompressor().stream_reader(stored, read_across_frames=False) as rd:
            while total <= encoded_size:
                part = rd.read(encoded_size + 1 - total)
                if not part:
                    break
                parts.append(part)
                total += len(part)
        out = b"".join(parts)
        if len(out) > encoded_size:
            raise StrataError(f"Zstd data decompresses to more than encodedSize {encoded_size}")
        if len(out) < encoded_size:
            raise StrataError(f"Zstd frame decompresses to only {len(out)} bytes (truncated?), "
                              f"encodedSize says {encoded_size}")
        # Then make sure the stored bytes are exactly one complete frame.
        dobj = zstandard.ZstdDecompressor().decompressobj()
        dobj.decompress(stored)
        if not dobj.eof:
            raise StrataError("Zstd frame is truncated")
        if dobj.unused_data:
            raise StrataError(f"{len(dobj.unused_data)} bytes after the Zstd frame")
        return out
    except zstandard.ZstdError as e:
        raise StrataError(f"Zstd frame does not decompress: {e}") from None


class _Values:
    """Bounds-checked view of the `values` part of an encoded chunk."""

    def __init__(self, buf: bytes, start: int):
        self.buf = buf
        self.start = start
        self.pos = start

    def need(self, size: int, what: str) -> int:
        if size < 0 or self.pos + size > len(self.buf):
            raise StrataError(f"{what} runs past the end of the encoded chunk "
                              f"(needs {size} bytes at values offset {self.pos - self.start}, "
                              f"{len(self.buf) - self.pos} left)")
        p = self.pos
        self.pos += size
        return p

    def u32(self, what):
        return struct.unpack_from("<I", self.buf, self.need(4, what))[0]

    def i64(self, what):
        return struct.unpack_from("<q", self.buf, self.need(8, what))[0]

    def zeros(self, n, what):
        p = self.need(n, what)
        if any(self.buf[p:p + n]):
            raise StrataError(f"{what} are not zero")

    def width(self, what):
        p = self.need(8, f"{what} bit width")
        w = self.buf[p]
        if any(self.buf[p + 1:p + 8]):
            raise StrataError(f"the 7 bytes after {what} bit width are not zero")
        if w > MAX_BIT_WIDTH:
            raise StrataError(f"{what} bit width {w} outside 0..{MAX_BIT_WIDTH}")
        return w

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        p = self.need(size, what)
        return np.frombuffer(self.buf, dtype=dtype, count=count, offset=p)

    def bitpacked(self, n: int, w: int, what: str) -> np.ndarray:
        """Bit-packed array of n values of width w, as uint64."""
        nwords = (n * w + 63) // 64
        words = self.array("<u8", nwords, f"{what} bit-packed array").astype(np.uint64)
        if w == 0:
            return np.zeros(n, dtype=np.uint64)
        if w == 64:
            return words
        if w in (8, 16, 32):
            # Byte-aligned widths are just little-endian arrays.
            return words.view(np.uint8).view(f"<u{w // 8}")[:n].astype(np.uint64)
        pos = np.arange(n, dtype=np.int64) * w
        j = pos >> 6
        s = (pos & 63).astype(np.uint64)
        ext = np.zeros(nwords + 1, dtype=np.uint64)  # one spare word so j + 1 is always valid
        ext[:nwords] = words
        lo = ext[j] >> s
        spill = (s + np.uint64(w)) > np.uint64(64)  # value straddles two words (then s > 0)
        hi = ext[j + 1] << ((np.uint64(64) - s) & np.uint64(63))
        out = lo | np.where(spill, hi, np.uint64(0))
        return out & np.uint64((1 << w) - 1)

    def bitpack_section(self, n: int, what: str) -> np.ndarray:
        """`i64 base, u8 w, 7 zero bytes, array` -> int64 values (wrapping base + u)."""
        base = self.i64(f"{what} base")
        w = self.width(what)
        u = self.bitpacked(n, w, what)
        return (u + np.uint64(base & U64_MASK)).view(np.int64)

    def string_table(self, count: int, what: str) -> list[str]:
        offsets = self.array("<u4", count + 1, f"{what} offsets")
        if offsets[0] != 0:
            raise StrataError(f"{what} offsets[0] is {offsets[0]}, not 0")
        if count and bool((np.diff(offsets.astype(np.int64)) < 0).any()):
            raise StrataError(f"{what} offsets decrease")
        total = int(offsets[-1])
        p = self.need(total, f"{what} bytes")
        data = self.buf[p:p + total]
        offs = offsets.tolist()
        # surrogateescape keeps invalid UTF-8 byte-exact through to the output.
        return [data[a:b].decode("utf-8", "surrogateescape") for a, b in zip(offs, offs[1:])]


def decode_chunk(buf: bytes, ltype: int, n: int, null_count: int, encoding: int):
    """Decode one decompressed chunk.

    Returns (values, valid): values is an int64/float64 ndarray or, for strings, a list of str;
    valid is None (no nulls) or a bool ndarray. Null rows hold 0 / "".
    """
    if encoding not in ENCODING_TYPES:
        raise StrataError(f"unknown encoding {encoding}")
    if ltype not in ENCODING_TYPES[encoding]:
        raise StrataError(f"encoding {ENCODING_NAMES[encoding]} is not allowed for "
                          f"{TYPE_NAMES[ltype]} columns")

    valid = None
    start = 0
    if null_count > 0:
        nbytes = (n + 7) // 8
        start = (nbytes + 7) // 8 * 8
        if start > len(buf):
            raise StrataError(f"validity bitmap ({start} bytes) runs past the end of the "
                              f"encoded chunk ({len(buf)} bytes)")
        if any(buf[nbytes:start]):
            raise StrataError("validity bitmap padding bytes are not zero")
        bits = np.unpackbits(np.frombuffer(buf, np.uint8, nbytes), bitorder="little")[:n]
        valid = bits.astype(bool)
        nulls = n - int(np.count_nonzero(valid))
        if nulls != null_count:
            raise StrataError(f"validity bitmap has {nulls} null rows, nullCount says {null_count}")

    v = _Values(buf, start)
    if encoding == PLAIN:
        if ltype == STRING:
            values = v.string_table(n, "PLAIN string")
        else:
            dtype = {INT64: "<i8", FLOAT64: "<f8", DATE: "<i4", BOOL: "u1", ENTITY: "<u4"}[ltype]
            raw = v.array(dtype, n, "PLAIN values")
            values = raw.astype(np.float64 if ltype == FLOAT64 else np.int64)
    elif encoding == BITPACK:
        values = v.bitpack_section(n, "BITPACK")
    elif encoding == DELTA:
        if n == 0:
            raise StrataError("DELTA used for a chunk of 0 rows")
        first = v.i64("DELTA first")
        min_delta = v.i64("DELTA minDelta")
        w = v.width("DELTA")
        u = v.bitpacked(n - 1, w, "DELTA")
        acc = np.empty(n, dtype=np.uint64)
        acc[0] = 0
        # uint64 arithmetic wraps modulo 2^64, which is the spec's wrapping i64 addition.
        np.cumsum(u + np.uint64(min_delta & U64_MASK), dtype=np.uint64, out=acc[1:])
        values = (acc + np.uint64(first & U64_MASK)).view(np.int64)
    elif encoding == RLE:
        runs = v.u32("RLE runCount")
        v.zeros(4, "the 4 bytes after RLE runCount")
        run_values = v.array("<i8", runs, "RLE runValue")
        run_lengths = v.array("<u4", runs, "RLE runLength")
        if runs and bool((run_lengths == 0).any()):
            raise StrataError("RLE run of length 0")
        total = int(run_lengths.sum(dtype=np.uint64))
        if total != n:
            raise StrataError(f"RLE run lengths sum to {total}, chunk has {n} rows")
        values = np.repeat(run_values.astype(np.int64), run_lengths.astype(np.intp))
    elif encoding == DICT:
        count = v.u32("DICT dictCount")
        v.zeros(4, "the 4 bytes after DICT dictCount")
        if ltype == STRING:
            dictionary = v.string_table(count, "DICT string dictionary")
            pad = -(v.pos - v.start) % 8
            v.zeros(pad, "DICT string dictionary padding bytes")
        else:
            dictionary = v.array("<i8", count, "DICT dictionary").astype(np.int64)
        w = v.width("DICT codes")
        codes = v.bitpacked(n, w, "DICT codes")
        if count == 0:
            # Only an all-null chunk may have an empty dictionary; its codes are meaningless.
            if null_count != n:
                raise StrataError("DICT dictionary is empty but the chunk has non-null rows")
            values = [""] * n if ltype == STRING else np.zeros(n, dtype=np.int64)
        else:
            if n and int(codes.max()) >= count:
                raise StrataError(f"DICT code {int(codes.max())} >= dictCount {count}")
            if ltype == STRING:
                values = [dictionary[c] for c in codes.tolist()]
            else:
                values = dictionary[codes.astype(np.intp)]
    else:  # DECIMAL
        p = v.need(8, "DECIMAL exponent")
        e = buf[p]
        if any(buf[p + 1:p + 8]):
            raise StrataError("the 7 bytes after the DECIMAL exponent are not zero")
        if e > MAX_DECIMAL_EXP:
            raise StrataError(f"DECIMAL exponent {e} outside 0..{MAX_DECIMAL_EXP}")
        k = v.bitpack_section(n, "DECIMAL")
        # int64 -> f64 and the division both round to nearest-even, as IEEE-754 requires.
        values = k.astype(np.float64) / np.float64(float(10 ** e))

    if v.pos != len(buf):
        raise StrataError(f"{len(buf) - v.pos} unexpected bytes after the "
                          f"{ENCODING_NAMES[encoding]} values")

    if ltype in (DATE, BOOL, ENTITY):
        live = values if valid is None else values[valid]
        if live.size:
            lo, hi = int(live.min()), int(live.max())
            bounds = {DATE: (I32_MIN, I32_MAX), BOOL: (0, 1), ENTITY: (0, U32_MAX)}[ltype]
            if lo < bounds[0] or hi > bounds[1]:
                bad = lo if lo < bounds[0] else hi
                raise StrataError(f"value {bad} is out of range for type {TYPE_NAMES[ltype]}")
    return values, valid


def check_zone_map(values, valid, ltype: int, zmin: int, zmax: int) -> None:
    """Zone map present (bit 0 set): it must bound every non-null value (section 3.3)."""
    if ltype == STRING:
        raise StrataError("string chunk has a zone map")
    live = values if valid is None else values[valid]
    if live.size == 0:
        raise StrataError("all-null chunk has a zone map")
    if ltype == FLOAT64:
        lo, hi = struct.unpack("<dd", struct.pack("<qq", zmin, zmax))
        if lo != lo or hi != hi:
            raise StrataError("zone map holds NaN")
        if bool(np.isnan(live).any()):
            raise StrataError("chunk with NaN has a zone map")
        vmin, vmax = float(live.min()), float(live.max())
    else:
        lo, hi = zmin, zmax
        vmin, vmax = int(live.min()), int(live.max())
    if vmin < lo or vmax > hi:
        raise StrataError(f"values [{vmin}, {vmax}] are outside the zone map [{lo}, {hi}]")


# --------------------------------------------------------------------------------------------
# Segment files (section 3)
# --------------------------------------------------------------------------------------------

@dataclass
class Column:
    name: str
    ltype: int
    nullable: bool


@dataclass
class ChunkEntry:
    offset: int
    stored_size: int
    encoded_size: int
    row_count: int
    null_count: int
    block_crc: int
    encoding: int
    codec: int
    zone_flags: int
    reserved31: int
    zmin: int
    zmax: int
    reserved48: bytes


_CHUNK_ENTRY = struct.Struct("<QIIIIIBBBBqq16s")
_COLUMN_ENTRY = struct.Struct("<IHBB8s")


class Segment:
    """An opened segment: header, trailer and footer parsed and their checksums verified."""

    def __init__(self, path: str, label: str):
        self.label = label
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            raise StrataError(f"{label}: cannot open: {e.strerror}") from None
        try:
            self._parse()
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self, offset: int, size: int) -> bytes:
        data = os.pread(self.fd, size, offset)
        if len(data) != size:
            raise StrataError(f"{self.label}: short read at offset {offset}")
        return data

    def _fail(self, msg: str):
        raise StrataError(f"{self.label}: {msg}")

    def _parse(self):
        self.size = os.fstat(self.fd).st_size
        if self.size < HEADER_SIZE + FOOTER_HEADER_SIZE + TRAILER_SIZE:
            self._fail(f"file is too small ({self.size} bytes) to be a segment")

        h = self._read(0, HEADER_SIZE)
        if h[0:8] != SEG_MAGIC:
            self._fail("bad header magic (not a Strata segment)")
        (self.header_crc,) = struct.unpack_from("<I", h, 60)
        if crc32(h[:60]) != self.header_crc:
            self._fail("headerCRC mismatch (header is corrupt)")
        fv, mrv, flags, rows, ncols, chunk_rows = struct.unpack_from("<HHIQII", h, 8)
        if mrv > READER_VERSION:
            self._fail(f"written by a newer Strata (minReaderVersion {mrv}, this reader is "
                       f"version {READER_VERSION})")
        if mrv < 1 or fv < mrv:
            self._fail(f"invalid versions formatVersion={fv} minReaderVersion={mrv}")
        # A compatible extension (formatVersion > 1) may use fields that are reserved in v1, so
        # reserved/flag bits are only required to be zero in files that claim to be v1.
        self.strict = fv == 1
        if self.strict and (flags != 0 or any(h[32:60])):
            self._fail("header flags or reserved bytes are not zero")
        if not 1 <= ncols <= MAX_COLUMNS:
            self._fail(f"columnCount {ncols} outside 1..{MAX_COLUMNS}")
        if not 1 <= chunk_rows <= MAX_CHUNK_ROWS:
            self._fail(f"chunkRowCount {chunk_rows} outside 1..{MAX_CHUNK_ROWS}")
        self.row_count = rows
        self.chunk_row_count = chunk_rows
        self.chunk_count = -(-rows // chunk_rows)

        t = self._read(self.size - TRAILER_SIZE, TRAILER_SIZE)
        if t[24:32] != END_MAGIC:
            self._fail("bad trailer magic (file truncated or not a segment)")
        footer_off, footer_size, self.footer_crc, self.file_crc, trailer_crc = \
            struct.unpack_from("<QIIII", t, 0)
        if crc32(t[:20]) != trailer_crc:
            self._fail("trailerCRC mismatch (trailer is corrupt)")
        if footer_off % 64 or footer_off < HEADER_SIZE:
            self._fail(f"footerOffset {footer_off} is not a multiple of 64 after the header")
        if footer_off + footer_size != self.size - TRAILER_SIZE:
            self._fail(f"footerOffset + footerSize = {footer_off + footer_size}, "
                       f"expected fileSize - 32 = {self.size - TRAILER_SIZE}")
        self.footer_offset = footer_off

        f = self._read(footer_off, footer_size)
        if crc32(f) != self.footer_crc:
            self._fail("footerCRC mismatch (footer is corrupt)")
        if footer_size < FOOTER_HEADER_SIZE:
            self._fail("footer is smaller than its 16-byte header")
        fcols, fchunks, name_size, freserved = struct.unpack_from("<IIII", f, 0)
        if fcols != ncols:
            self._fail(f"footer columnCount {fcols} != header columnCount {ncols}")
        if fchunks != self.chunk_count:
            self._fail(f"footer chunkCount {fchunks}, expected ceil({rows} / {chunk_rows}) = "
                       f"{self.chunk_count}")
        if self.strict and freserved:
            self._fail("footer reserved field is not zero")
        entries_off = FOOTER_HEADER_SIZE + COLUMN_ENTRY_SIZE * ncols
        names_off = entries_off + CHUNK_ENTRY_SIZE * ncols * fchunks
        if names_off + name_size != footer_size:
            self._fail(f"footerSize {footer_size} != 16 + 16*columns + 64*columns*chunks + "
                       f"nameAreaSize = {names_off + name_size}")
        names = f[names_off:]
        self.columns: list[Column] = []
        for c in range(ncols):
            noff, nlen, ltype, cflags, res = _COLUMN_ENTRY.unpack_from(
                f, FOOTER_HEADER_SIZE + COLUMN_ENTRY_SIZE * c)
            if not 1 <= nlen <= MAX_NAME_BYTES:
                self._fail(f"column {c}: name length {nlen} outside 1..{MAX_NAME_BYTES}")
            if noff + nlen > name_size:
                self._fail(f"column {c}: name runs past the name area")
            try:
                name = names[noff:noff + nlen].decode("utf-8")
            except UnicodeDecodeError:
                self._fail(f"column {c}: name is not valid UTF-8")
            if ltype not in TYPE_NAMES:
                self._fail(f"column {name!r}: unknown logicalType {ltype}")
            if self.strict and (cflags & ~1 or any(res)):
                self._fail(f"column {name!r}: unknown columnFlags bits or non-zero reserved")
            self.columns.append(Column(name, ltype, bool(cflags & 1)))
        self._footer = f
        self._entries_off = entries_off

    def entry(self, c: int, k: int) -> ChunkEntry:
        """Chunk entry of column c, chunk k, with every per-entry rule of section 3.3 checked."""
        col = self.columns[c]
        e = ChunkEntry(*_CHUNK_ENTRY.unpack_from(
            self._footer, self._entries_off + CHUNK_ENTRY_SIZE * (c * self.chunk_count + k)))
        where = f"{self.label}: column {col.name!r}, chunk {k}"
        expect_rows = min(self.chunk_row_count, self.row_count - k * self.chunk_row_count)
        problems = []
        if e.row_count != expect_rows:
            problems.append(f"rowCount {e.row_count}, expected {expect_rows}")
        if e.null_count > e.row_count:
            problems.append(f"nullCount {e.null_count} > rowCount {e.row_count}")
        if e.null_count and not col.nullable:
            problems.append(f"nullCount {e.null_count} in a non-nullable column")
        if e.offset % 64 or e.offset < HEADER_SIZE:
            problems.append(f"block offset {e.offset} is not a multiple of 64 after the header")
        if e.offset + e.stored_size > self.footer_offset:
            problems.append(f"block [{e.offset}, {e.offset + e.stored_size}) overlaps the footer "
                            f"at {self.footer_offset}")
        if e.stored_size > MAX_BLOCK_BYTES:
            problems.append(f"storedSize {e.stored_size} exceeds {MAX_BLOCK_BYTES}")
        if e.encoded_size > MAX_BLOCK_BYTES:
            problems.append(f"encodedSize {e.encoded_size} exceeds {MAX_BLOCK_BYTES}")
        if e.encoding not in ENCODING_NAMES:
            problems.append(f"unknown encoding {e.encoding}")
        if e.codec not in (CODEC_NONE, CODEC_LZ4, CODEC_ZSTD):
            problems.append(f"unknown codec {e.codec}")
        if e.codec == CODEC_NONE and e.stored_size != e.encoded_size:
            problems.append(f"codec NONE but storedSize {e.stored_size} != "
                            f"encodedSize {e.encoded_size}")
        if self.strict and (e.zone_flags & ~1 or e.reserved31 or any(e.reserved48)):
            problems.append("unknown zoneFlags bits or non-zero reserved bytes")
        if problems:
            raise StrataError(f"{where}: " + "; ".join(problems))
        return e

    def read_block(self, c: int, k: int) -> tuple[ChunkEntry, bytes]:
        e = self.entry(c, k)
        stored = self._read(e.offset, e.stored_size)
        if crc32(stored) != e.block_crc:
            raise StrataError(f"{self.label}: column {self.columns[c].name!r}, chunk {k}: "
                              f"blockCRC mismatch (block is corrupt)")
        return e, stored

    def read_chunk(self, c: int, k: int):
        """Decoded (values, valid) of column c, chunk k."""
        e, stored = self.read_block(c, k)
        col = self.columns[c]
        try:
            buf = decompress(stored, e.codec, e.encoded_size)
            values, valid = decode_chunk(buf, col.ltype, e.row_count, e.null_count, e.encoding)
            if e.zone_flags & 1:
                check_zone_map(values, valid, col.ltype, e.zmin, e.zmax)
        except StrataError as err:
            raise StrataError(f"{self.label}: column {col.name!r}, chunk {k}: {err}") from None
        return values, valid


# --------------------------------------------------------------------------------------------
# Manifest (section 7)
# --------------------------------------------------------------------------------------------

def _mf(cond: bool, label: str, msg: str):
    if not cond:
        raise StrataError(f"{label}: {msg}")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _get(obj, key, kind, label, where):
    _mf(isinstance(obj, dict), label, f"{where} is not a JSON object")
    _mf(key in obj, label, f"{where} has no {key!r}")
    v = obj[key]
    ok = {"int": _is_int(v), "str": isinstance(v, str), "list": isinstance(v, list),
          "dict": isinstance(v, dict), "bool": isinstance(v, bool),
          "str?": v is None or isinstance(v, str)}[kind]
    _mf(ok, label, f"{where}.{key} has the wrong JSON type ({type(v).__name__})")
    return v


def _check_rel_path(p: str, label: str):
    # Files named by a manifest live inside the store; refuse anything that would escape it.
    parts = p.split("/")
    _mf(p != "" and not p.startswith("/") and ".." not in parts and "\\" not in p
        and "\0" not in p, label, f"file path {p!r} is not a relative path inside the store")


def load_manifest(store: str, version: int | None) -> tuple[int, dict | None]:
    """(version, payload) of the committed version, or of `version`; payload None for v0."""
    mdir = os.path.join(store, "manifest")
    if not os.path.isdir(store):
        raise StrataError(f"{store}: not a directory")
    if version is None:
        found = []
        if os.path.isdir(mdir):
            for name in os.listdir(mdir):
                m = MANIFEST_NAME_RE.match(name)
                if m and os.path.isfile(os.path.join(mdir, name)):
                    found.append(int(m.group(1)))
        version = max(found, default=0)
    if version == 0:
        return 0, None
    if not 0 < version <= 999_999_999_999:
        raise StrataError(f"version {version} cannot exist (12 decimal digits)")
    label = f"manifest/{version:012d}.manifest"
    try:
        with open(os.path.join(store, label), "rb") as fh:
            data = fh.read(20 + MAX_MANIFEST_PAYLOAD + 1)
    except FileNotFoundError:
        raise StrataError(f"{label}: version {version} does not exist in this store") from None
    except OSError as e:
        raise StrataError(f"{label}: cannot read: {e.strerror}") from None

    _mf(len(data) >= 20, label, f"file too small ({len(data)} bytes)")
    _mf(data[:8] == MAN_MAGIC, label, "bad magic (not a Strata manifest)")
    fv, mrv, psize = struct.unpack_from("<HHI", data, 8)
    _mf(mrv <= READER_VERSION, label,
        f"written by a newer Strata (minReaderVersion {mrv}, this reader is version "
        f"{READER_VERSION})")
    _mf(1 <= mrv <= fv, label, f"invalid versions formatVersion={fv} minReaderVersion={mrv}")
    _mf(psize <= MAX_MANIFEST_PAYLOAD, label,
        f"payloadSize {psize} exceeds {MAX_MANIFEST_PAYLOAD}")
    _mf(len(data) == 20 + psize, label,
        f"file size {len(data)} != 20 + payloadSize {psize}")
    (stored_crc,) = struct.unpack_from("<I", data, 16 + psize)
    _mf(crc32(data[:16 + psize]) == stored_crc, label, "CRC mismatch (manifest is corrupt)")
    try:
        payload = json.loads(data[16:16 + psize].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise StrataError(f"{label}: payload is not UTF-8 JSON: {e}") from None

    _validate_payload(payload, version, label)
    return version, payload


def _validate_payload(p, version: int, label: str):
    _mf(isinstance(p, dict), label, "payload is not a JSON object")
    v = _get(p, "version", "int", label, "payload")
    _mf(v == version, label, f"payload version {v} != {version} in the file name")
    ents = _get(p, "entities", "dict", label, "payload")
    count = _get(ents, "count", "int", label, "entities")
    _mf(0 <= count <= U32_MAX + 1, label, f"entities.count {count} out of range")
    next_id = 0
    for i, s in enumerate(_get(ents, "segments", "list", label, "entities")):
        where = f"entities.segments[{i}]"
        _check_rel_path(_get(s, "file", "str", label, where), label)
        first = _get(s, "firstId", "int", label, where)
        n = _get(s, "count", "int", label, where)
        _mf(first == next_id, label, f"{where}.firstId {first}, expected {next_id} (ids are dense)")
        _mf(n >= 0, label, f"{where}.count is negative")
        next_id += n
    _mf(next_id == count, label, f"entity segments hold {next_id} ids, entities.count is {count}")

    tables = _get(p, "tables", "dict", label, "payload")
    for tname, t in tables.items():
        where = f"tables[{tname!r}]"
        cols = _get(t, "columns", "list", label, where)
        _mf(len(cols) >= 1, label, f"{where} has no columns")
        col_types = {}
        for j, c in enumerate(cols):
            cw = f"{where}.columns[{j}]"
            name = _get(c, "name", "str", label, cw)
            tn = _get(c, "type", "str", label, cw)
            _mf(tn in TYPE_IDS, label, f"{cw}.type {tn!r} is not a logical type")
            _get(c, "nullable", "bool", label, cw)
            col_types[name] = tn
        pcol = _get(t, "partitionColumn", "str?", label, where)
        part = _get(t, "partitioning", "str", label, where)
        _mf(part in ("month", "none"), label, f"{where}.partitioning {part!r} unknown")
        if part == "month":
            _mf(pcol is not None and col_types.get(pcol) == "date", label,
                f"{where}: partitioning is 'month' but partitionColumn {pcol!r} "
                f"is not a date column")
        for i, s in enumerate(_get(t, "segments", "list", label, where)):
            sw = f"{where}.segments[{i}]"
            _check_rel_path(_get(s, "file", "str", label, sw), label)
            key = _get(s, "partition", "int", label, sw)
            if part == "month":
                _mf(1 <= key % 100 <= 12, label, f"{sw}.partition {key} is not a YYYYMM month")
            else:
                _mf(key == 0, label, f"{sw}.partition {key}, expected 0 (partitioning 'none')")
            for k in ("rowCount", "sizeBytes", "fileCRC"):
                _mf(_get(s, k, "int", label, sw) >= 0, label, f"{sw}.{k} is negative")
            if "sortedBy" in s:
                keys = _get(s, "sortedBy", "list", label, sw)
                nonnull = {c["name"] for c in cols if not c["nullable"]}
                _mf(len(keys) >= 1 and len(set(keys)) == len(keys)
                    and all(isinstance(k, str) and col_types.get(k) in ("int64", "date", "bool", "entity")
                            and k in nonnull for k in keys), label,
                    f"{sw}.sortedBy {keys!r} is not a list of distinct non-nullable integer, date "
                    f"or entity columns")


# --------------------------------------------------------------------------------------------
# Store-level reading
# --------------------------------------------------------------------------------------------

class Store:
    def __init__(self, path: str, version: int | None = None):
        self.path = path
        self.version, self.manifest = load_manifest(path, version)
        self._entities: list[str] | None = None

    def tables(self) -> list[str]:
        return sorted(self.manifest["tables"]) if self.manifest else []

    def table(self, name: str) -> dict:
        if not self.manifest or name not in self.manifest["tables"]:
            raise StrataError(f"no table {name!r} in version {self.version} of {self.path}")
        return self.manifest["tables"][name]

    def open_segment(self, rel: str) -> Segment:
        return Segment(os.path.join(self.path, rel), rel)

    def entities(self) -> list[str]:
        """msno of every entity id, already CSV-quoted (they are only ever printed)."""
        if self._entities is None:
            out: list[str] = []
            for s in self.manifest["entities"]["segments"]:
                with self.open_segment(s["file"]) as seg:
                    self._check_against_manifest(seg, s, s["count"])
                    cols = seg.columns
                    if len(cols) != 1 or cols[0] != Column("msno", STRING, False):
                        raise StrataError(f"{seg.label}: an entity segment must hold exactly one "
                                          f"column 'msno' (string, not nullable)")
                    for k in range(seg.chunk_count):
                        values, _ = seg.read_chunk(0, k)
                        out.extend(map(csv_field, values))
            self._entities = out
        return self._entities

    @staticmethod
    def _check_against_manifest(seg: Segment, entry: dict, rows: int):
        if seg.row_count != rows:
            raise StrataError(f"{seg.label}: holds {seg.row_count} rows, the manifest says {rows}")
        # Entity entries in the spec's example carry no sizeBytes/fileCRC; check them if present.
        if "sizeBytes" in entry and entry["sizeBytes"] != seg.size:
            raise StrataError(f"{seg.label}: file is {seg.size} bytes, the manifest says "
                              f"{entry['sizeBytes']}")
        if "fileCRC" in entry and entry["fileCRC"] != seg.file_crc:
            raise StrataError(f"{seg.label}: trailer fileCRC {seg.file_crc:#010x} differs from the "
                              f"manifest's {entry['fileCRC']:#010x} (segment swapped or stale)")

    def scan(self, table: str, out, columns: list[str] | None = None,
             date_from: int | None = None, date_to: int | None = None):
        """Write TABLE as CSV to the binary stream `out`. date_from/date_to are YYYYMMDD."""
        t = self.table(table)
        schema = [Column(c["name"], TYPE_IDS[c["type"]], c["nullable"]) for c in t["columns"]]
        index = {}
        for i, c in enumerate(schema):
            index.setdefault(c.name, i)
        if columns is None:
            wanted = list(range(len(schema)))
        else:
            missing = [c for c in columns if c not in index]
            if missing:
                raise StrataError(f"table {table!r} has no column(s) {', '.join(missing)}")
            wanted = [index[c] for c in columns]

        filtering = t["partitioning"] == "month" and (date_from is not None or date_to is not None)
        lo_days = yyyymmdd_to_days(date_from, "--from") if date_from is not None else None
        hi_days = yyyymmdd_to_days(date_to, "--to") if date_to is not None else None
        pcol = index[t["partitionColumn"]] if filtering else None
        lo_part = date_from // 100 if date_from is not None else None
        hi_part = date_to // 100 if date_to is not None else None

        need = sorted(set(wanted) | ({pcol} if filtering else set()))
        # Load the entity dictionary before printing anything, so its errors leave stdout empty.
        ents = self.entities() if any(schema[i].ltype == ENTITY for i in wanted) else None
        header = ",".join(csv_field(schema[i].name) for i in wanted) + "\n"
        out.write(header.encode("utf-8"))

        for s in t["segments"]:
            if filtering and ((lo_part is not None and s["partition"] < lo_part) or
                              (hi_part is not None and s["partition"] > hi_part)):
                continue
            with self.open_segment(s["file"]) as seg:
                self._check_against_manifest(seg, s, s["rowCount"])
                if seg.columns != schema:
                    raise StrataError(f"{seg.label}: columns {_describe(seg.columns)} differ "
                                      f"from the table's {_describe(schema)}")
                for k in range(seg.chunk_count):
                    decoded = {c: seg.read_chunk(c, k) for c in need}
                    keep = None
                    if filtering:
                        days, valid = decoded[pcol]
                        keep = np.ones(len(days), dtype=bool) if valid is None else valid.copy()
                        if lo_days is not None:
                            keep &= days >= lo_days
                        if hi_days is not None:
                            keep &= days <= hi_days
                        if not keep.any():
                            continue
                        if keep.all():
                            keep = None
                    fields = [self._format(seg, c, k, *decoded[c], keep, ents) for c in wanted]
                    text = "\n".join(map(",".join, zip(*fields))) + "\n"
                    out.write(text.encode("utf-8", "surrogateescape"))

    @staticmethod
    def _format(seg: Segment, c: int, k: int, values, valid, keep, ents) -> list[str]:
        ltype = seg.columns[c].ltype
        if keep is not None:
            if ltype == STRING:
                values = list(compress(values, keep.tolist()))
            else:
                values = values[keep]
            if valid is not None:
                valid = valid[keep]
        if ltype == STRING:
            # Quoting is rare: test the whole chunk at once, then quote each distinct value once.
            if _CSV_SPECIAL.search("".join(values)):
                quoted = {s: csv_field(s) for s in set(values)}
                strs = [quoted[s] for s in values]
            else:
                strs = list(values)
        elif ltype == FLOAT64:
            strs = list(map(repr, values.tolist()))
        elif ltype == DATE:
            strs = [f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}" for v in yyyymmdd_from_days(values).tolist()]
        elif ltype == ENTITY:
            ids = values if valid is None else np.where(valid, values, 0)
            live = values if valid is None else values[valid]
            if live.size and int(live.max()) >= len(ents):
                raise StrataError(f"{seg.label}: column {seg.columns[c].name!r}, chunk {k}: "
                                  f"entity id {int(live.max())} >= entities.count {len(ents)}")
            if not live.size:
                strs = [""] * len(values)
            else:
                strs = [ents[i] for i in ids.tolist()]
        else:  # int64, bool
            strs = list(map(str, values.tolist()))
        if valid is not None:
            for i in np.flatnonzero(~valid).tolist():
                strs[i] = ""
        return strs

    def verify(self) -> list[str]:
        """Every checksum of every file of this version; problems as readable lines."""
        problems: list[str] = []
        if not self.manifest:
            return problems
        files = [(s["file"], s, [Column("msno", STRING, False)])
                 for s in self.manifest["entities"]["segments"]]
        for t in self.manifest["tables"].values():
            schema = [Column(c["name"], TYPE_IDS[c["type"]], c["nullable"]) for c in t["columns"]]
            files += [(s["file"], s, schema) for s in t["segments"]]
        for rel, entry, schema in files:
            problems += verify_segment(os.path.join(self.path, rel), rel, entry, schema)
        return problems


def verify_segment(path: str, label: str, entry: dict, schema: list[Column] | None) -> list[str]:
    """All checksums of one segment. The raw header/trailer/footer/file checksums are checked
    independently, so one bad byte does not hide another problem."""
    problems: list[str] = []
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        return [f"{label}: cannot open: {e.strerror}"]
    try:
        size = os.fstat(fd).st_size
        if "sizeBytes" in entry and entry["sizeBytes"] != size:
            problems.append(f"{label}: file is {size} bytes, "
                            f"the manifest says {entry['sizeBytes']}")
        if size < HEADER_SIZE + TRAILER_SIZE:
            return problems + [f"{label}: file is too small ({size} bytes) to be a segment"]
        h = os.pread(fd, HEADER_SIZE, 0)
        frame = []  # problems that make the block table untrustworthy
        if h[:8] != SEG_MAGIC:
            frame.append(f"{label}: bad header magic")
        if crc32(h[:60]) != struct.unpack_from("<I", h, 60)[0]:
            frame.append(f"{label}: headerCRC mismatch")
        t = os.pread(fd, TRAILER_SIZE, size - TRAILER_SIZE)
        footer_off, footer_size, footer_crc, file_crc, trailer_crc = struct.unpack_from("<QIIII", t)
        if t[24:32] != END_MAGIC:
            frame.append(f"{label}: bad trailer magic")
        if crc32(t[:20]) != trailer_crc:
            frame.append(f"{label}: trailerCRC mismatch")
        end = size - TRAILER_SIZE
        if footer_off + footer_size == end and footer_off < end:
            if crc32(os.pread(fd, footer_size, footer_off)) != footer_crc:
                frame.append(f"{label}: footerCRC mismatch")
        else:
            frame.append(f"{label}: footerOffset/footerSize do not locate the footer")
        crc, pos = 0, 0
        while pos < end:
            data = os.pread(fd, min(8 << 20, end - pos), pos)
            if not data:
                break
            crc = zlib.crc32(data, crc)
            pos += len(data)
        if crc & 0xFFFFFFFF != file_crc:
            problems.append(f"{label}: fileCRC mismatch "
                            f"(header, blocks, padding or footer changed)")
        if "fileCRC" in entry and entry["fileCRC"] != file_crc:
            problems.append(f"{label}: trailer fileCRC {file_crc:#010x} differs from the "
                            f"manifest's {entry['fileCRC']:#010x}")
    finally:
        os.close(fd)
    if frame:
        return frame + problems
    try:
        with Segment(path, label) as seg:
            rows = entry.get("rowCount", entry.get("count"))
            if rows != seg.row_count:
                problems.append(f"{label}: holds {seg.row_count} rows, the manifest says {rows}")
            if schema is not None and seg.columns != schema:
                problems.append(f"{label}: columns {_describe(seg.columns)} differ from the "
                                f"manifest's {_describe(schema)}")
            for c in range(len(seg.columns)):
                for k in range(seg.chunk_count):
                    try:
                        seg.read_block(c, k)
                    except StrataError as e:
                        problems.append(str(e))
            if "sortedBy" in entry and not problems:
                problems += _order_problems(seg, label, entry["sortedBy"])
    except StrataError as e:
        problems.append(str(e))
    return problems


def _order_problems(seg: "Segment", label: str, keys: list[str]) -> list[str]:
    """A clustered segment's rows must be in the order its entry claims: ascending by the sortedBy
    columns compared in turn (format-spec section 8)."""
    names = [c.name for c in seg.columns]
    if any(k not in names for k in keys):
        return [f"{label}: sortedBy names a column the segment does not hold"]
    index = [names.index(k) for k in keys]
    columns = [np.concatenate([seg.read_chunk(c, k)[0] for k in range(seg.chunk_count)])
               if seg.chunk_count else np.zeros(0, dtype=np.int64) for c in index]
    if len(columns[0]) < 2:
        return []
    # Row i+1 breaks the order when, at the first key where the rows differ, it is smaller.
    undecided = np.ones(len(columns[0]) - 1, dtype=bool)
    broken = np.zeros(len(columns[0]) - 1, dtype=bool)
    for values in columns:
        values = values.astype(np.int64)
        broken |= undecided & (values[1:] < values[:-1])
        undecided &= values[1:] == values[:-1]
    if broken.any():
        row = int(np.flatnonzero(broken)[0]) + 1
        return [f"{label}: row {row} is out of the order ({', '.join(keys)}) its manifest entry claims"]
    return []


def _describe(cols: list[Column]) -> str:
    return "[" + ", ".join(f"{c.name}:{TYPE_NAMES[c.ltype]}{'?' if c.nullable else ''}"
                           for c in cols) + "]"


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="strata_read.py",
                                 description="Read a Strata store (format v1) without Strata.")
    ap.add_argument("store")
    ap.add_argument("table", nargs="?")
    ap.add_argument("--version", type=int, metavar="N", help="open version N (time travel)")
    ap.add_argument("--columns", metavar="a,b,c")
    ap.add_argument("--from", dest="date_from", metavar="DAY")
    ap.add_argument("--to", dest="date_to", metavar="DAY")
    ap.add_argument("--tables", action="store_true", help="list table names")
    ap.add_argument("--verify", action="store_true", help="check every checksum")
    args = ap.parse_args(argv)

    modes = sum([args.tables, args.verify, args.table is not None])
    if modes != 1:
        ap.error("give exactly one of TABLE, --tables, --verify")
    out = sys.stdout.buffer
    try:
        if args.version is not None and args.version < 0:
            raise StrataError("--version must be >= 0")
        date_from = date_to = None
        if args.date_from is not None:
            date_from = parse_yyyymmdd(args.date_from, "--from")
        if args.date_to is not None:
            date_to = parse_yyyymmdd(args.date_to, "--to")
        columns = None
        if args.columns is not None:
            columns = args.columns.split(",")
            if any(c == "" for c in columns):
                raise StrataError(f"--columns {args.columns!r} has an empty column name")

        if args.verify:
            try:
                store = Store(args.store, args.version)
                problems = store.verify()
            except StrataError as e:  # an unreadable manifest is itself the problem to list
                problems = [str(e)]
            out.write(("\n".join(problems) if problems else "ok").encode("utf-8") + b"\n")
            out.flush()
            return 1 if problems else 0
        store = Store(args.store, args.version)
        if args.tables:
            for name in store.tables():
                out.write((name + "\n").encode("utf-8"))
        else:
            store.scan(args.table, out, columns, date_from, date_to)
        out.flush()
        return 0
    except BrokenPipeError:
        # Downstream closed (e.g. `| head`): not an error of the data.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except StrataError as e:
        print(f"strata_read: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"strata_read: {e}", file=sys.stderr)
        return 1
    except MemoryError:
        print("strata_read: out of memory (data claims an impossible size?)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
