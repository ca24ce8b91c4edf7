#!/usr/bin/env python3
"""W4 (online point lookups, tools/bench/README.md): the latest feature vector of a user from a dict, SQLite,
DuckDB and Redis.

    python3 w4_peers.py --data DIR [--stores dict,sqlite,duckdb,redis] [--lookups 100000]
                        [--keys-out FILE] [--vectors-out FILE] [--work DIR] [--json]

1. materialise: W1 (tools/w1_reference.py's SQL, in DuckDB) over a synthetic label set: every distinct
   msno of members.csv at cutoff = max(labels.cutoff_date), is_churn NULL. The vector is the W1 row
   without cutoff_date / is_churn: msno + 29 values.
2. build each store from those rows: dict msno -> tuple; SQLite (WITHOUT ROWID, msno TEXT PRIMARY KEY,
   journal off); DuckDB file (PRIMARY KEY (msno)); Redis (redis-server started here on 127.0.0.1:6391,
   no persistence, one hash per msno loaded with a pipeline; NULL values are absent fields; skipped with
   a message when redis-server or redis-py is missing).
3. lookups: --lookups msno drawn uniformly with replacement (numpy.random.default_rng(7)) from the
   distinct msno of members in byte-wise order; one request per lookup fetching the whole vector; latency
   by time.perf_counter_ns around each call. Reported per store: build seconds, p50 / p99 / mean in µs.
   After timing, the vectors of the first 1,000 drawn keys are checked against the materialised rows.
--keys-out writes the drawn msno, one per line, so that Strata's lookup benchmark can replay them;
--vectors-out writes the materialised vectors in w1_reference.py's CSV form (msno order), to check
Strata's online store against.
"""
import argparse, json, os, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, time

import numpy as np

THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count())
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import w1_reference as ref  # noqa: E402

STORES = ("dict", "sqlite", "duckdb", "redis")
VECTOR_COLUMNS = [c for c in ref.OUTPUT_COLUMNS if c not in ("cutoff_date", "is_churn")]  # msno + 29
REDIS_PORT = 6391
SEED = 7
CHECKED = 1000


class Skip(Exception):
    """A store that cannot run here (e.g. no redis-server); reported, not fatal."""


def materialise(con, data):
    """Returns (rows as tuples, the same as an Arrow table, column types, the cutoff)."""
    ref.load_tables(con, data, lenient_dates=False)
    # Byte-wise msno order: the draw below indexes this list, so it must not depend on file order.
    con.execute("""CREATE OR REPLACE TABLE w4_labels AS
                   SELECT msno, (SELECT max(cutoff_date) FROM labels) AS cutoff_date, CAST(NULL AS BIGINT) AS is_churn
                   FROM (SELECT DISTINCT msno FROM members WHERE msno IS NOT NULL) ORDER BY encode(msno)""")
    sql = ref.w1_sql(labels="w4_labels")
    # Integer sums come out as HUGEINT; every store holds integers as 64-bit.
    described = {row[0]: row[1] for row in con.execute(f"DESCRIBE {sql}").fetchall()}
    types = [described[c] if described[c] in ("VARCHAR", "DOUBLE") else "BIGINT" for c in VECTOR_COLUMNS]
    cols = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in zip(VECTOR_COLUMNS, types))
    con.execute(f"CREATE OR REPLACE TABLE w4_vectors AS SELECT {cols} FROM ({sql})")
    cutoff = con.execute("SELECT max(cutoff_date) FROM labels").fetchone()[0]
    return (con.execute("SELECT * FROM w4_vectors").fetchall(),
            con.sql("SELECT * FROM w4_vectors").to_arrow_table(), types, cutoff)


def sql_types(duck_types):
    """(name, SQLite type, DuckDB type) of every vector column but msno."""
    sqlite = {"DOUBLE": "REAL", "VARCHAR": "TEXT", "BIGINT": "INTEGER"}
    return [(n, sqlite[t], t) for n, t in zip(VECTOR_COLUMNS[1:], duck_types[1:])]


# ------------------------------------------------------------------------------------------------ stores
class DictStore:
    def build(self, rows, arrow, types, work):
        self.d = {r[0]: tuple(r[1:]) for r in rows}

    def lookup_fn(self):
        return self.d.get

    def vector(self, result):
        return result

    def close(self):
        pass


class SQLiteStore:
    def build(self, rows, arrow, types, work):
        self.path = os.path.join(work, "w4.sqlite")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.con = sqlite3.connect(self.path)
        self.con.execute("PRAGMA journal_mode = OFF")
        decl = ", ".join(f'"{n}" {s}' for n, s, _ in sql_types(types))
        self.con.execute(f"CREATE TABLE features (msno TEXT PRIMARY KEY, {decl}) WITHOUT ROWID")
        marks = ", ".join("?" * len(VECTOR_COLUMNS))
        with self.con:  # one transaction
            self.con.executemany(f"INSERT INTO features VALUES ({marks})", rows)
        self.bytes = os.path.getsize(self.path)

    def lookup_fn(self):
        cur = self.con.cursor()
        # The sqlite3 module caches the prepared statement, so each call is bind + step.
        return lambda k: cur.execute("SELECT * FROM features WHERE msno = ?", (k,)).fetchone()

    def vector(self, result):
        return None if result is None else tuple(result[1:])

    def close(self):
        self.con.close()


class DuckDBStore:
    def build(self, rows, arrow, types, work):
        import duckdb
        self.path = os.path.join(work, "w4.duckdb")
        for p in (self.path, self.path + ".wal"):
            if os.path.exists(p):
                os.unlink(p)
        self.con = duckdb.connect(self.path, config={"threads": THREADS})
        decl = ", ".join(f'"{n}" {d}' for n, _, d in sql_types(types))
        self.con.execute(f"CREATE TABLE features (msno VARCHAR PRIMARY KEY, {decl})")
        # Bulk insert from the Arrow copy of the vectors (DuckDB's idiom for data already in memory);
        # a row-wise executemany would time the Python binding rather than the store.
        self.con.register("w4_rows", arrow)
        self.con.execute("INSERT INTO features SELECT * FROM w4_rows")
        self.con.unregister("w4_rows")
        self.con.execute("CHECKPOINT")
        self.bytes = os.path.getsize(self.path)

    def lookup_fn(self):
        con = self.con
        return lambda k: con.execute("SELECT * FROM features WHERE msno = ?", [k]).fetchone()

    def vector(self, result):
        return None if result is None else tuple(result[1:])

    def close(self):
        self.con.close()


class RedisStore:
    def __init__(self):
        self.proc = None

    def build(self, rows, arrow, types, work):
        server = shutil.which("redis-server")
        if server is None:
            raise Skip("redis-server not found (apt-get install -y redis-server)")
        try:
            import redis
        except ImportError:
            raise Skip("redis-py not installed (pip install redis)") from None
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", REDIS_PORT)) == 0:
                raise Skip(f"port {REDIS_PORT} is already in use; not touching a server this script did not start")
        self.log = open(os.path.join(work, "redis.log"), "w")
        # No RDB snapshots, no AOF: a pure in-memory store, like the dict.
        self.proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(REDIS_PORT), "--save", "",
                                      "--appendonly", "no", "--dir", work], stdout=self.log, stderr=subprocess.STDOUT)
        self.r = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise Skip(f"redis-server exited with {self.proc.returncode} (see {self.log.name})")
            try:
                self.r.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise Skip("redis-server did not answer within 10 s") from None
                time.sleep(0.05)
        if self.r.info("server")["process_id"] != self.proc.pid:
            raise Skip(f"another Redis answers on port {REDIS_PORT}")
        self.version = self.r.info("server")["redis_version"]
        names = VECTOR_COLUMNS[1:]
        t0 = time.perf_counter()
        pipe = self.r.pipeline(transaction=False)
        for i, r in enumerate(rows, 1):
            # A hash cannot hold NULL: absent field. redis-py sends ints as str(), floats as repr().
            pipe.hset(r[0], mapping={n: v for n, v in zip(names, r[1:]) if v is not None})
            if i % 10000 == 0:
                pipe.execute()
        pipe.execute()
        self.build_seconds = time.perf_counter() - t0  # the server start-up is not part of the build

    def lookup_fn(self):
        return self.r.hgetall

    def vector(self, result):
        # Back to the tuple form, with the same text forms redis-py wrote.
        if not result:
            return None
        return tuple(result.get(n.encode()) for n in VECTOR_COLUMNS[1:])

    def expected(self, values):
        return tuple(None if v is None else (repr(v) if isinstance(v, float) else str(v)).encode() for v in values)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # our own server, by its pid
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()


STORE_CLASSES = {"dict": DictStore, "sqlite": SQLiteStore, "duckdb": DuckDBStore, "redis": RedisStore}


def measure(store, keys):
    get = store.lookup_fn()
    lat = np.empty(len(keys), dtype=np.int64)
    clock = time.perf_counter_ns
    misses = 0
    for i, k in enumerate(keys):
        t0 = clock()
        v = get(k)
        lat[i] = clock() - t0
        if v is None or v == {}:
            misses += 1
    us = lat / 1000.0
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)),
            "mean_us": float(us.mean()), "misses": misses}


def check(store, keys, by_key):
    """Untimed: the whole vector comes back, equal to the materialised one."""
    get = store.lookup_fn()
    bad = 0
    for k in dict.fromkeys(keys[:CHECKED]):
        want = by_key[k]
        if isinstance(store, RedisStore):
            want = store.expected(want)
        if store.vector(get(k)) != want:
            bad += 1
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with the four KKBox CSVs")
    ap.add_argument("--stores", default=",".join(STORES), help="comma list of " + ", ".join(STORES) + " (default all)")
    ap.add_argument("--lookups", type=int, default=100_000)
    ap.add_argument("--keys-out", help="write the drawn msno here, one per line")
    ap.add_argument("--vectors-out", help="write the materialised vectors here (CSV, w1_reference.py's text form)")
    ap.add_argument("--work", help="directory for the SQLite / DuckDB files and the Redis log (default: temporary)")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a = ap.parse_args()
    stores = a.stores.split(",")
    if set(stores) - set(STORES):
        ap.error(f"unknown store: {', '.join(sorted(set(stores) - set(STORES)))}")
    # A SIGTERM unwinds like an exception, so the finally blocks still stop Redis and remove files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = a.work or tempfile.mkdtemp(prefix="w4-")
    os.makedirs(work, exist_ok=True)
    try:
        import duckdb
        con = duckdb.connect(config={"threads": THREADS})
        t0 = time.perf_counter()
        try:
            rows, arrow, types, cutoff = materialise(con, a.data)
        except ref.InputError as e:
            sys.exit(f"w4_peers: {e}")
        materialise_seconds = time.perf_counter() - t0
        if a.vectors_out:
            ref.write_result(con.execute("SELECT * FROM w4_vectors"), a.vectors_out, columns=VECTOR_COLUMNS)
        con.close()
        if not rows:
            sys.exit("w4_peers: members.csv has no rows")

        msnos = [r[0] for r in rows]  # byte-wise order (see materialise)
        keys = [msnos[i] for i in np.random.default_rng(SEED).integers(0, len(msnos), size=a.lookups)]
        if a.keys_out:
            with open(a.keys_out, "w", encoding="utf-8", newline="") as f:
                f.write("".join(k + "\n" for k in keys))
        by_key = {r[0]: tuple(r[1:]) for r in rows}

        results = {}
        for name in stores:
            store = STORE_CLASSES[name]()
            try:
                t0 = time.perf_counter()
                store.build(rows, arrow, types, work)
                build = getattr(store, "build_seconds", time.perf_counter() - t0)
                r = {"build_seconds": build, **measure(store, keys)}
                r["checked_keys"] = len(dict.fromkeys(keys[:CHECKED]))
                r["wrong_vectors"] = check(store, keys, by_key)
                if hasattr(store, "bytes"):
                    r["bytes"] = store.bytes
                r["version"] = {"dict": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
                                "duckdb": duckdb.__version__}.get(name) or getattr(store, "version", None)
                results[name] = r
            except Skip as e:
                results[name] = {"skipped": str(e)}
                print(f"w4_peers: {name} skipped: {e}", file=sys.stderr)
            finally:
                store.close()
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)

    out = {"workload": "w4", "data": os.path.abspath(a.data), "threads": THREADS, "vectors": len(rows),
           "vector_columns": len(VECTOR_COLUMNS), "cutoff_date": cutoff, "lookups": a.lookups, "seed": SEED,
           "materialise_seconds": materialise_seconds, "stores": results}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"materialised {len(rows)} vectors x {len(VECTOR_COLUMNS)} columns (cutoff {cutoff}) in "
              f"{materialise_seconds:.3f} s; {a.lookups} lookups")
        print(f"{'store':8} {'build_s':>9} {'p50_us':>9} {'p99_us':>9} {'mean_us':>9} {'misses':>7} {'wrong':>6}")
        for name, r in results.items():
            if "skipped" in r:
                print(f"{name:8} skipped: {r['skipped']}")
            else:
                print(f"{name:8} {r['build_seconds']:>9.3f} {r['p50_us']:>9.2f} {r['p99_us']:>9.2f} "
                      f"{r['mean_us']:>9.2f} {r['misses']:>7} {r['wrong_vectors']:>6}")
    if any(r.get("wrong_vectors") or r.get("misses") for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
