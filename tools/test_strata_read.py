"""Self-test of tools/strata_read.py against files built by hand from format-spec/format-v1.md.

The writer helpers below are deliberately naive (pure Python, one struct.pack per field) so that
they stay an independent second reading of the spec rather than a mirror of the reader.
Needs pytest, numpy, lz4, zstandard; does not need Strata's Swift binary.
"""

import datetime
import json
import os
import random
import struct
import subprocess
import sys
import zlib

import lz4.block
import numpy as np
import pytest
import zstandard

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import strata_read as sr  # noqa: E402

READER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "strata_read.py")

INT64, FLOAT64, DATE, STRING, BOOL, ENTITY = 1, 2, 3, 4, 5, 6
PLAIN, BITPACK, DELTA, RLE, DICT, DECIMAL = 0, 1, 2, 3, 4, 5
NONE, LZ4, ZSTD = 0, 1, 2
M64 = (1 << 64) - 1


def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def days(yyyymmdd):
    d = datetime.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)
    return (d - datetime.date(1970, 1, 1)).days


# ---------------------------------------------------------------------------- hand encoders

def pad8(b):
    return b + bytes(-len(b) % 8)


def bitpack(us, w):
    """Section 4 bit-packed array: value i at stream bits [i*w, i*w+w)."""
    stream = 0
    for i, u in enumerate(us):
        assert 0 <= u < (1 << w) or (w == 0 and u == 0)
        stream |= u << (i * w)
    nwords = (len(us) * w + 63) // 64
    return stream.to_bytes(nwords * 8, "little")


def width(us):
    return max(us, default=0).bit_length()


def validity(valid):
    if valid is None or all(valid):
        return b""
    bits = 0
    for i, v in enumerate(valid):
        bits |= int(v) << i
    return pad8(bits.to_bytes((len(valid) + 7) // 8, "little"))


def enc_plain(vals, t):
    if t == STRING:
        offs, data = [0], b""
        for s in vals:
            data += s.encode()
            offs.append(len(data))
        return struct.pack(f"<{len(offs)}I", *offs) + data
    fmt = {INT64: "q", FLOAT64: "d", DATE: "i", BOOL: "B", ENTITY: "I"}[t]
    return struct.pack(f"<{len(vals)}{fmt}", *vals)


def enc_bitpack(vals):
    base = min(vals)
    us = [(v - base) & M64 for v in vals]
    w = width(us)
    return struct.pack("<qB7x", base, w) + bitpack(us, w)


def enc_delta(vals):
    deltas = [vals[i] - vals[i - 1] for i in range(1, len(vals))]
    md = min(deltas, default=0)
    us = [d - md for d in deltas]
    w = width(us)
    return struct.pack("<qqB7x", vals[0], md, w) + bitpack(us, w)


def enc_rle(vals):
    runs = []
    for v in vals:
        if runs and runs[-1][0] == v:
            runs[-1][1] += 1
        else:
            runs.append([v, 1])
    return (struct.pack("<I4x", len(runs)) + struct.pack(f"<{len(runs)}q", *[r[0] for r in runs])
            + struct.pack(f"<{len(runs)}I", *[r[1] for r in runs]))


def enc_dict(vals, t, dictionary=None, nulls=()):
    dictionary = dictionary if dictionary is not None else sorted(set(
        v for i, v in enumerate(vals) if i not in nulls))
    codes = [0 if i in nulls else dictionary.index(v) for i, v in enumerate(vals)]
    out = struct.pack("<I4x", len(dictionary))
    if t == STRING:
        out += enc_plain(dictionary, STRING)
        out = pad8(out)
    else:
        out += struct.pack(f"<{len(dictionary)}q", *dictionary)
    w = width(codes)
    return out + struct.pack("<B7x", w) + bitpack(codes, w)


def enc_decimal(ks, e):
    return struct.pack("<B7x", e) + enc_bitpack(ks)


# ---------------------------------------------------------------------------- hand file writers

class Chunk:
    def __init__(self, encoded, encoding, rows, nulls=0, codec=NONE, zone=None):
        if codec == LZ4:
            stored = lz4.block.compress(encoded, store_size=False)
        elif codec == ZSTD:
            stored = zstandard.ZstdCompressor(level=3).compress(encoded)
        else:
            stored = encoded
        self.__dict__.update(encoded=encoded, stored=stored, encoding=encoding, rows=rows,
                             nulls=nulls, codec=codec, zone=zone)


def build_segment(columns, chunk_rows, chunks, row_count=None, fv=1, mrv=1):
    """columns: [(name, type, nullable)]; chunks[k][c] is a Chunk. Returns the file bytes."""
    ncols = len(columns)
    if row_count is None:
        row_count = sum(ch[0].rows for ch in chunks)
    body = bytearray(64)
    entries = {}
    for k, per_col in enumerate(chunks):
        for c, ch in enumerate(per_col):
            body += bytes(-len(body) % 64)
            entries[(c, k)] = (len(body), ch)
            body += ch.stored
    body += bytes(-len(body) % 64)
    footer_off = len(body)

    names = b""
    col_entries = b""
    for name, t, nullable in columns:
        nb = name.encode()
        col_entries += struct.pack("<IHBB8x", len(names), len(nb), t, int(nullable))
        names += nb
    chunk_entries = b""
    for c in range(ncols):
        for k in range(len(chunks)):
            off, ch = entries[(c, k)]
            zf, zmin, zmax = (0, 0, 0) if ch.zone is None else (1, *ch.zone)
            chunk_entries += struct.pack("<QIIIIIBBBxqq16x", off, len(ch.stored), len(ch.encoded),
                                         ch.rows, ch.nulls, crc(ch.stored), ch.encoding, ch.codec,
                                         zf, zmin, zmax)
    footer = struct.pack("<III4x", ncols, len(chunks), len(names)) + col_entries \
        + chunk_entries + names

    header = struct.pack("<8sHHIQII28x", b"STRATSEG", fv, mrv, 0, row_count, ncols, chunk_rows)
    body[0:64] = header + struct.pack("<I", crc(header))
    body += footer
    file_crc = crc(bytes(body))
    trailer = struct.pack("<QIII", footer_off, len(footer), crc(footer), file_crc)
    trailer += struct.pack("<I", crc(trailer)) + b"STRATEND"
    return bytes(body) + trailer


def build_manifest(payload, fv=1, mrv=1):
    p = json.dumps(payload).encode()
    head = struct.pack("<8sHHI", b"STRATMAN", fv, mrv, len(p)) + p
    return head + struct.pack("<I", crc(head))


def seg_crc(data):
    return struct.unpack_from("<I", data, len(data) - 16)[0]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------- spec examples

SPEC_BITPACK = bytes.fromhex(
    "03 00 00 00 00 00 00 00"
    "03 00 00 00 00 00 00 00"
    "20 1E 00 00 00 00 00 00")

SPEC_DICT = bytes.fromhex(
    "0D 00 00 00 00 00 00 00"
    "02 00 00 00 00 00 00 00"
    "00 00 00 00 06 00 00 00"
    "0A 00 00 00"
    "66 65 6D 61 6C 65 6D 61 6C 65"
    "00 00"
    "01 00 00 00 00 00 00 00"
    "09 00 00 00 00 00 00 00")


def test_crc_check_value():
    assert sr.crc32(b"123456789") == 0xCBF43926


def test_spec_example_bitpack_bytes_and_decode():
    assert enc_bitpack([3, 7, 3, 10, 4]) == SPEC_BITPACK
    values, valid = sr.decode_chunk(SPEC_BITPACK, sr.INT64, 5, 0, sr.BITPACK)
    assert values.tolist() == [3, 7, 3, 10, 4] and valid is None


def test_spec_example_dict_bytes_and_decode():
    vals = ["male", "", "female", "male"]
    mine = validity([1, 0, 1, 1]) + enc_dict(vals, STRING, nulls={1})
    assert mine == SPEC_DICT
    values, valid = sr.decode_chunk(SPEC_DICT, sr.STRING, 4, 1, sr.DICT)
    assert valid.tolist() == [True, False, True, True]
    assert [v for v, ok in zip(values, valid) if ok] == ["male", "female", "male"]


def test_spec_examples_in_a_segment_file(tmp_path, capsysbinary):
    """The two worked examples as blocks of a real segment, read through the CLI."""
    seg = build_segment([("num_25", INT64, False)], 5, [[Chunk(SPEC_BITPACK, BITPACK, 5)]])
    seg2 = build_segment([("gender", STRING, True)], 4, [[Chunk(SPEC_DICT, DICT, 4, nulls=1)]])
    store = tmp_path / "s"
    write(store / "tables/a/0/v000000000001-00000.seg", seg)
    write(store / "tables/b/0/v000000000001-00000.seg", seg2)
    payload = {"version": 1, "parentVersion": 0, "entities": {"count": 0, "segments": []},
               "tables": {
                   "a": {"columns": [{"name": "num_25", "type": "int64", "nullable": False}],
                         "partitionColumn": None, "partitioning": "none", "segments": [
                             {"file": "tables/a/0/v000000000001-00000.seg", "partition": 0,
                              "rowCount": 5, "sizeBytes": len(seg), "fileCRC": seg_crc(seg)}]},
                   "b": {"columns": [{"name": "gender", "type": "string", "nullable": True}],
                         "partitionColumn": None, "partitioning": "none", "segments": [
                             {"file": "tables/b/0/v000000000001-00000.seg", "partition": 0,
                              "rowCount": 4, "sizeBytes": len(seg2), "fileCRC": seg_crc(seg2)}]}}}
    write(store / "manifest/000000000001.manifest", build_manifest(payload))
    assert sr.main([str(store), "a"]) == 0
    assert capsysbinary.readouterr().out == b"num_25\n3\n7\n3\n10\n4\n"
    assert sr.main([str(store), "b"]) == 0
    assert capsysbinary.readouterr().out == b"gender\nmale\n\nfemale\nmale\n"


# ---------------------------------------------------------------------------- a full store

MEMBERS_COLS = [("msno", ENTITY, False), ("city", INT64, True), ("score", FLOAT64, True),
                ("date", DATE, False), ("name", STRING, True), ("active", BOOL, False)]

# Rows of partition 201701 (chunkRowCount 3 -> chunks of 3, 2) and 201702 (one chunk of 2).
P1 = [(0, 5, 1.5, 20170101, "plain", 1),
      (1, None, 123.456, 20170103, 'has,comma', 0),
      (2, 7, None, 20170103, 'has "quote"', 1),
      (0, 7, float("nan"), 20170115, None, 1),
      (1, -3, 1e-05, 20170131, "line\nbreak", 0)]
P2 = [(2, 9, 1e16, 20170201, "", 1),
      (0, None, -0.0, 20170228, "ünïcode", 0)]


def col(rows, i):
    return [r[i] for r in rows]


def members_store(tmp_path):
    store = tmp_path / "store"
    # Entity dictionary in two segments (append-only, dense ids), second one ZSTD + DICT-free.
    e1 = build_segment([("msno", STRING, False)], 4,
                       [[Chunk(enc_plain(["userA", "user,B"], STRING), PLAIN, 2, codec=LZ4)]])
    e2 = build_segment([("msno", STRING, False)], 4,
                       [[Chunk(enc_plain(['user"C'], STRING), PLAIN, 1, codec=ZSTD)]])
    write(store / "entities/e000000000001.seg", e1)
    write(store / "entities/e000000000002.seg", e2)

    def chunk_cols(rows, variant):
        ents = col(rows, 0)
        city = col(rows, 1)
        cvalid = [v is not None for v in city]
        cvals = [0 if v is None else v for v in city]
        score = col(rows, 2)
        svalid = [v is not None for v in score]
        svals = [0.0 if v is None else v for v in score]
        dts = [days(d) for d in col(rows, 3)]
        names = col(rows, 4)
        nvalid = [v is not None for v in names]
        nvals = ["" if v is None else v for v in names]
        act = col(rows, 5)
        n = len(rows)
        nn = lambda valid: valid.count(False)  # noqa: E731
        if variant == 0:
            return [
                Chunk(enc_delta(ents), DELTA, n, codec=ZSTD, zone=(min(ents), max(ents))),
                Chunk(validity(cvalid) + enc_rle(cvals), RLE, n, nn(cvalid), codec=LZ4),
                Chunk(validity(svalid) + enc_plain(svals, FLOAT64), PLAIN, n, nn(svalid)),
                Chunk(enc_bitpack(dts), BITPACK, n, zone=(min(dts), max(dts))),
                Chunk(validity(nvalid) + enc_plain(nvals, STRING), PLAIN, n, nn(nvalid)),
                Chunk(enc_rle(act), RLE, n, codec=ZSTD)]
        return [
            Chunk(enc_dict(ents, ENTITY), DICT, n),
            Chunk(validity(cvalid) + enc_dict(cvals, INT64, nulls={i for i, v in
                                                                    enumerate(cvalid) if not v}),
                  DICT, n, nn(cvalid)),
            Chunk(validity(svalid) + enc_plain(svals, FLOAT64), PLAIN, n, nn(svalid), codec=LZ4),
            Chunk(enc_delta(dts), DELTA, n, codec=LZ4),
            Chunk(validity(nvalid) + enc_dict(nvals, STRING, nulls={i for i, v in
                                                                    enumerate(nvalid) if not v}),
                  DICT, n, nn(nvalid), codec=ZSTD),
            Chunk(enc_plain(act, BOOL), PLAIN, n)]

    # Version 2 lists s1 (rows P1) and s2 (rows P2). Version 1 only knew entities 0 and 1, so
    # its own 201701 segment s0 holds P1 with entity 2 mapped to 0.
    v1_rows = [(r[0] % 2,) + r[1:] for r in P1]
    s0 = build_segment(MEMBERS_COLS, 3, [chunk_cols(v1_rows[:3], 0), chunk_cols(v1_rows[3:], 1)])
    s1 = build_segment(MEMBERS_COLS, 3, [chunk_cols(P1[:3], 0), chunk_cols(P1[3:], 1)])
    s2 = build_segment(MEMBERS_COLS, 3, [chunk_cols(P2, 0)])
    f0 = "tables/members/201701/v000000000001-00000.seg"
    f1 = "tables/members/201701/v000000000002-00000.seg"
    f2 = "tables/members/201702/v000000000002-00000.seg"
    for f, data in ((f0, s0), (f1, s1), (f2, s2)):
        write(store / f, data)

    # A second table using DECIMAL floats and no partitioning.
    ks = [150, -2, 0, 1234567]
    prices = build_segment([("price", FLOAT64, False)], 8,
                           [[Chunk(enc_decimal(ks, 2), DECIMAL, 4, codec=ZSTD)]])
    f3 = "tables/prices/0/v000000000002-00000.seg"
    write(store / f3, prices)

    def entry(f, part, rows, data):
        return {"file": f, "partition": part, "rowCount": rows, "sizeBytes": len(data),
                "fileCRC": seg_crc(data)}

    cols_json = [{"name": n, "type": sr.TYPE_NAMES[t], "nullable": nl} for n, t, nl in MEMBERS_COLS]
    ent1 = {"file": "entities/e000000000001.seg", "firstId": 0, "count": 2}
    ent2 = {"file": "entities/e000000000002.seg", "firstId": 2, "count": 1}
    v1 = {"version": 1, "parentVersion": 0, "createdAt": "2026-11-29T03:00:00Z",
          "operation": "ingest", "entities": {"count": 2, "segments": [ent1]},
          "tables": {"members": {"columns": cols_json, "partitionColumn": "date",
                                 "partitioning": "month", "sourceBytes": 1,
                                 "segments": [entry(f0, 201701, 5, s0)]}}}
    v2 = {"version": 2, "parentVersion": 1, "createdAt": "2026-11-29T04:00:00Z",
          "operation": "ingest", "entities": {"count": 3, "segments": [ent1, ent2]},
          "tables": {"members": {"columns": cols_json, "partitionColumn": "date",
                                 "partitioning": "month", "sourceBytes": 1,
                                 "segments": [entry(f1, 201701, 5, s1),
                                              entry(f2, 201702, 2, s2)]},
                     "prices": {"columns": [{"name": "price", "type": "float64",
                                             "nullable": False}],
                                "partitionColumn": None, "partitioning": "none",
                                "sourceBytes": 1, "segments": [entry(f3, 0, 4, prices)]}}}
    write(store / "manifest/000000000001.manifest", build_manifest(v1))
    write(store / "manifest/000000000002.manifest", build_manifest(v2))
    write(store / "manifest/.tmp-3.manifest", b"garbage: not a committed version")
    write(store / "LOCK", b"")
    return store


ENT = {0: "userA", 1: '"user,B"', 2: '"user""C"'}


def iso(yyyymmdd):
    """The text form of a date (format-spec section 10): YYYY-MM-DD."""
    return f"{yyyymmdd // 10000:04d}-{yyyymmdd // 100 % 100:02d}-{yyyymmdd % 100:02d}"


def expected_csv(rows, ents=ENT):
    out = "msno,city,score,date,name,active\n"
    for e, city, score, d, name, act in rows:
        if name is None:
            name_f = ""
        elif any(ch in name for ch in ',"\n\r'):
            name_f = '"' + name.replace('"', '""') + '"'
        else:
            name_f = name
        out += ",".join([ents[e], "" if city is None else str(city),
                         "" if score is None else repr(score), iso(d), name_f, str(act)]) + "\n"
    return out.encode()


def run(capsysbinary, *args):
    rc = sr.main([str(a) for a in args])
    cap = capsysbinary.readouterr()
    return rc, cap.out, cap.err


def test_full_scan_all_encodings_and_codecs(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    rc, out, err = run(capsysbinary, store, "members")
    assert (rc, err) == (0, b"")
    assert out == expected_csv(P1 + P2)
    # Spot-check the formatting contract literally, independent of expected_csv().
    lines = out.decode().split("\n")
    assert lines[1] == "userA,5,1.5,2017-01-01,plain,1"
    assert lines[2] == '"user,B",,123.456,2017-01-03,"has,comma",0'
    assert lines[3] == '"user""C",7,,2017-01-03,"has ""quote""",1'
    assert lines[4] == "userA,7,nan,2017-01-15,,1"
    assert out.endswith('userA,,-0.0,2017-02-28,ünïcode,0\n'.encode())


def test_decimal_table(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    rc, out, _ = run(capsysbinary, store, "prices")
    assert rc == 0 and out == b"price\n1.5\n-0.02\n0.0\n12345.67\n"
    # --from/--to on an unpartitioned table filter nothing.
    rc, out2, _ = run(capsysbinary, store, "prices", "--from", "20170101", "--to", "20170101")
    assert rc == 0 and out2 == out


def test_columns_and_date_filter(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    rc, out, _ = run(capsysbinary, store, "members", "--columns", "name,city",
                     "--from", "20170103", "--to", "20170201")
    assert rc == 0
    assert out == b'name,city\n"has,comma",\n"has ""quote""",7\n,7\n"line\nbreak",-3\n,9\n'
    rc, out, _ = run(capsysbinary, store, "members", "--columns", "date", "--from", "20170201")
    assert rc == 0 and out == b"date\n2017-02-01\n2017-02-28\n"
    rc, out, _ = run(capsysbinary, store, "members", "--columns", "date", "--to", "2017-01-02")
    assert rc == 0 and out == b"date\n2017-01-01\n"
    rc, out, _ = run(capsysbinary, store, "members", "--columns", "date",
                     "--from", "20180101", "--to", "20180131")
    assert rc == 0 and out == b"date\n"


def test_tables_and_time_travel(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    assert run(capsysbinary, store, "--tables")[:2] == (0, b"members\nprices\n")
    assert run(capsysbinary, store, "--tables", "--version", "1")[:2] == (0, b"members\n")
    rc, out, _ = run(capsysbinary, store, "members", "--version", "1")
    assert rc == 0 and out == expected_csv([(r[0] % 2,) + r[1:] for r in P1])
    rc, _, err = run(capsysbinary, store, "prices", "--version", "1")
    assert rc == 1 and b"no table 'prices'" in err
    rc, _, err = run(capsysbinary, store, "members", "--version", "7")
    assert rc == 1 and b"does not exist" in err


def test_verify_ok(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    assert run(capsysbinary, store, "--verify")[:2] == (0, b"ok\n")


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x40]))


def test_flipped_block_byte_is_a_checksum_error(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    seg = store / "tables/members/201702/v000000000002-00000.seg"
    flip(seg, 64 + 3)  # inside the first block (column msno, chunk 0)
    rc, out, _ = run(capsysbinary, store, "--verify")
    text = out.decode()
    assert rc == 1
    assert "blockCRC mismatch" in text and "fileCRC mismatch" in text and "msno" in text
    # Scanning reports it too, naming file, column and chunk, on stderr, exit 1.
    proc = subprocess.run([sys.executable, READER, str(store), "members"], capture_output=True)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert (b"v000000000002-00000.seg: column 'msno', chunk 0: blockCRC mismatch"
            in proc.stderr)


def test_flipped_padding_byte_only_fails_file_crc(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    seg = store / "tables/members/201702/v000000000002-00000.seg"
    data = seg.read_bytes()
    # The first block is short; the bytes before the next 64-aligned block are padding.
    first_block_len = len(enc_delta([days(20170201), days(20170228)]))
    assert first_block_len < 64
    flip(seg, 64 + 63)
    assert seg.read_bytes() != data
    rc, out, _ = run(capsysbinary, store, "--verify")
    assert rc == 1 and "fileCRC mismatch" in out.decode() and "blockCRC" not in out.decode()
    # A plain scan does not read padding, so it still succeeds (section 3.2).
    assert run(capsysbinary, store, "members")[0] == 0


@pytest.mark.parametrize("where", ["header", "footer", "trailer", "manifest"])
def test_flipped_structure_bytes(tmp_path, capsysbinary, where):
    store = members_store(tmp_path)
    seg = store / "tables/members/201702/v000000000002-00000.seg"
    size = seg.stat().st_size
    if where == "manifest":
        flip(store / "manifest/000000000002.manifest", 30)
        expect = "CRC mismatch"
    else:
        flip(seg, {"header": 20, "trailer": size - 30, "footer": size - 40}[where])
        expect = f"{where}CRC mismatch"
    rc, out, _ = run(capsysbinary, store, "--verify")
    assert rc == 1 and expect in out.decode()
    rc, _, err = run(capsysbinary, store, "members")
    assert rc == 1 and expect.encode() in err


def test_swapped_segment_detected_by_manifest_file_crc(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    a = store / "tables/members/201701/v000000000002-00000.seg"
    b = store / "tables/members/201701/v000000000001-00000.seg"
    a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(b_bytes)
    b.write_bytes(a_bytes)
    if len(a_bytes) == len(b_bytes):
        rc, out, _ = run(capsysbinary, store, "--verify")
        assert rc == 1 and "differs from the manifest" in out.decode()
    rc, _, err = run(capsysbinary, store, "members")
    assert rc == 1 and b"the manifest says" in err or b"differs from the manifest" in err


def test_newer_writer_is_refused(tmp_path, capsysbinary):
    store = members_store(tmp_path)
    payload = json.loads((store / "manifest/000000000002.manifest").read_bytes()[16:-4])
    write(store / "manifest/000000000003.manifest",
          build_manifest(dict(payload, version=3, parentVersion=2), fv=2, mrv=2))
    rc, _, err = run(capsysbinary, store, "--tables")
    assert rc == 1 and b"written by a newer Strata" in err
    # A compatible extension (formatVersion 2, minReaderVersion 1) is still readable.
    write(store / "manifest/000000000003.manifest",
          build_manifest(dict(payload, version=3, parentVersion=2), fv=2, mrv=1))
    assert run(capsysbinary, store, "--tables")[:2] == (0, b"members\nprices\n")


def test_empty_store(tmp_path, capsysbinary):
    (tmp_path / "empty").mkdir()
    assert run(capsysbinary, tmp_path / "empty", "--tables")[:2] == (0, b"")
    assert run(capsysbinary, tmp_path / "empty", "--verify")[:2] == (0, b"ok\n")


# ---------------------------------------------------------------------------- decoding details

@pytest.mark.parametrize("w", list(range(65)))
def test_bitpack_every_width(w):
    rng = random.Random(w)
    n = 70
    us = [rng.getrandbits(w) if w else 0 for _ in range(n)]
    us[0] = (1 << w) - 1 if w else 0
    base = -(1 << 63) if w == 64 else rng.randint(-(1 << 40), 1 << 40)
    buf = struct.pack("<qB7x", base, w) + bitpack(us, w)
    values, _ = sr.decode_chunk(buf, sr.INT64, n, 0, sr.BITPACK)
    want = [((base + u + (1 << 63)) & M64) - (1 << 63) for u in us]  # wrapping i64 addition
    assert values.tolist() == want


def test_delta_wraps_and_single_row():
    def wrap(x):  # to i64
        return ((x + (1 << 63)) & M64) - (1 << 63)
    vals = [(1 << 63) - 1, -(1 << 63), 5, 5, -7]
    deltas = [wrap(vals[i] - vals[i - 1]) for i in range(1, len(vals))]
    md = min(deltas)
    us = [(d - md) & M64 for d in deltas]
    w = max(us).bit_length()
    buf = struct.pack("<qqB7x", vals[0], md, w) + bitpack(us, w)
    assert sr.decode_chunk(buf, sr.INT64, 5, 0, sr.DELTA)[0].tolist() == vals
    one = struct.pack("<qqB7x", 42, 0, 0)
    assert sr.decode_chunk(one, sr.INT64, 1, 0, sr.DELTA)[0].tolist() == [42]


def test_dict_int_and_all_null_empty_dict():
    buf = enc_dict([10, -5, 10, 10], INT64)
    assert sr.decode_chunk(buf, sr.INT64, 4, 0, sr.DICT)[0].tolist() == [10, -5, 10, 10]
    empty = validity([0, 0, 0]) + struct.pack("<I4x", 0) + struct.pack("<B7x", 0)
    values, valid = sr.decode_chunk(empty, sr.DATE, 3, 3, sr.DICT)
    assert valid.tolist() == [False] * 3


def test_float_and_date_formatting(tmp_path, capsysbinary):
    floats = [1.0, 123.456, 1e-05, 1e16, float("nan"), float("inf"), float("-inf"), -0.0,
              5e-324, 1.7976931348623157e308, 0.1 + 0.2]
    dates = [17226, 0, -1, -719162, 2932896, 11016, -(1 << 31), (1 << 31) - 1]
    store = tmp_path / "s"
    n = len(floats)
    seg = build_segment([("f", FLOAT64, False)], 100,
                        [[Chunk(enc_plain(floats, FLOAT64), PLAIN, n)]])
    seg2 = build_segment([("d", DATE, False)], 100,
                         [[Chunk(enc_plain(dates, DATE), PLAIN, len(dates), codec=LZ4)]])
    write(store / "tables/f/0/a.seg", seg)
    write(store / "tables/d/0/a.seg", seg2)
    t = lambda name, ty, s, data: {  # noqa: E731
        "columns": [{"name": name, "type": ty, "nullable": False}], "partitionColumn": None,
        "partitioning": "none", "segments": [{"file": s, "partition": 0, "rowCount": 0,
                                              "sizeBytes": len(data), "fileCRC": seg_crc(data)}]}
    tf, td = t("f", "float64", "tables/f/0/a.seg", seg), t("d", "date", "tables/d/0/a.seg", seg2)
    tf["segments"][0]["rowCount"] = n
    td["segments"][0]["rowCount"] = len(dates)
    write(store / "manifest/000000000001.manifest", build_manifest(
        {"version": 1, "entities": {"count": 0, "segments": []}, "tables": {"f": tf, "d": td}}))
    rc, out, _ = run(capsysbinary, store, "f")
    assert rc == 0 and out.decode() == "f\n" + "".join(repr(x) + "\n" for x in floats)
    assert out.decode().split("\n")[1:9] == ["1.0", "123.456", "1e-05", "1e+16", "nan", "inf",
                                             "-inf", "-0.0"]
    rc, out, _ = run(capsysbinary, store, "d")
    lines = out.decode().split("\n")
    assert rc == 0 and lines[1:7] == ["2017-03-01", "1970-01-01", "1969-12-31", "0001-01-01",
                                      "9999-12-31", "2000-02-29"]


def test_date_conversion_matches_datetime():
    d = np.arange(-719162, 2932897, 997, dtype=np.int64)  # 0001-01-01 .. 9999-12-31
    got = sr.yyyymmdd_from_days(d).tolist()
    epoch = datetime.date(1970, 1, 1)
    want = [int((epoch + datetime.timedelta(days=int(x))).strftime("%Y%m%d")) for x in d]
    assert got == want
    for v in (20170301, 20000229, 19000228, 19700101):
        assert sr.yyyymmdd_to_days(v, "x") == days(v)
    for bad in (20170230, 20171301, 20170100, 19000229):
        with pytest.raises(sr.StrataError):
            sr.yyyymmdd_to_days(bad, "x")


# ---------------------------------------------------------------------------- limits (section 9)

@pytest.mark.parametrize("buf,ltype,n,nulls,enc,msg", [
    (struct.pack("<qB7x", 0, 65), INT64, 1, 0, BITPACK, "bit width 65"),
    (struct.pack("<B7x", 16) + struct.pack("<qB7x", 0, 0), FLOAT64, 1, 0, DECIMAL,
     "DECIMAL exponent 16"),
    (enc_plain([2], BOOL), BOOL, 1, 0, PLAIN, "out of range for type bool"),
    (enc_plain([1 << 31], INT64), DATE, 1, 0, PLAIN, "unexpected bytes"),  # 8 bytes, i32 PLAIN
    (struct.pack("<qB7x", 1 << 31, 0), DATE, 1, 0, BITPACK, "out of range for type date"),
    (struct.pack("<qB7x", -1, 0), ENTITY, 1, 0, BITPACK, "out of range for type entity"),
    (struct.pack("<I4xqI", 1, 7, 2), INT64, 3, 0, RLE, "sum to 2"),
    (struct.pack("<I4xqI", 1, 7, 0), INT64, 0, 0, RLE, "length 0"),
    (struct.pack("<I4xqB7x", 1, 7, 1) + bitpack([1], 1), INT64, 1, 0, DICT, ">= dictCount"),
    (enc_plain([1.0], FLOAT64), FLOAT64, 1, 0, BITPACK, "not allowed"),
    (enc_plain([1], INT64) + b"\0" * 8, INT64, 1, 0, PLAIN, "unexpected bytes"),
    (struct.pack("<qqB7x", 0, 0, 0), INT64, 0, 0, DELTA, "0 rows"),
    (struct.pack("<3I", 0, 5, 3) + b"abcde", STRING, 2, 0, PLAIN, "decrease"),
    (b"\x01" + b"\0" * 7 + enc_plain([0, 0], INT64), INT64, 2, 2, PLAIN, "nullCount says 2"),
    (struct.pack("<qB6xB", 0, 0, 1), INT64, 1, 0, BITPACK, "not zero"),
])
def test_decode_rejects(buf, ltype, n, nulls, enc, msg):
    with pytest.raises(sr.StrataError, match=msg):
        sr.decode_chunk(buf, ltype, n, nulls, enc)


def one_column_store(tmp_path, seg_bytes, ty="int64", rows=1, nullable=False):
    store = tmp_path / "s"
    write(store / "tables/t/0/a.seg", seg_bytes)
    write(store / "manifest/000000000001.manifest", build_manifest({
        "version": 1, "entities": {"count": 0, "segments": []},
        "tables": {"t": {"columns": [{"name": "x", "type": ty, "nullable": nullable}],
                         "partitionColumn": None, "partitioning": "none",
                         "segments": [{"file": "tables/t/0/a.seg", "partition": 0,
                                       "rowCount": rows, "sizeBytes": len(seg_bytes),
                                       "fileCRC": seg_crc(seg_bytes)}]}}}))
    return store


@pytest.mark.parametrize("case,msg", [
    ("chunk_rows", "chunkRowCount 1048577"),
    ("zone", "outside the zone map"),
    ("nulls_in_non_nullable", "non-nullable"),
    ("codec_size", "decompresses to"),
])
def test_segment_level_rejects(tmp_path, capsysbinary, case, msg):
    ch = Chunk(enc_plain([5], INT64), PLAIN, 1)
    chunk_rows = 1
    if case == "chunk_rows":
        chunk_rows = 1_048_577
    elif case == "zone":
        ch = Chunk(enc_plain([5], INT64), PLAIN, 1, zone=(0, 4))
    elif case == "nulls_in_non_nullable":
        ch = Chunk(validity([0]) + enc_plain([0], INT64), PLAIN, 1, nulls=1)
    elif case == "codec_size":
        ch = Chunk(enc_plain([5], INT64), PLAIN, 1, codec=ZSTD)
        ch.encoded = ch.encoded + b"\0" * 8  # lie about encodedSize
    seg = build_segment([("x", INT64, False)], chunk_rows, [[ch]])
    store = one_column_store(tmp_path, seg)
    proc = subprocess.run([sys.executable, READER, str(store), "t"], capture_output=True)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    assert msg.encode() in proc.stderr, proc.stderr
    assert b"a.seg" in proc.stderr


def test_entity_id_past_dictionary(tmp_path, capsysbinary):
    seg = build_segment([("x", ENTITY, False)], 4, [[Chunk(enc_plain([0], ENTITY), PLAIN, 1)]])
    store = one_column_store(tmp_path, seg, ty="entity")
    rc, _, err = run(capsysbinary, store, "t")
    assert rc == 1 and b"entities.count 0" in err
