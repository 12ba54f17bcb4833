"""Benchmark ingestion: every register year of a data directory into a fresh warehouse.

    uv run python benchmarks/bench_ingest.py --data DIR --years A-B [--out DIR] [--threads N]
    uv run python benchmarks/bench_ingest.py --side-by-side [--rounds 3]   # one load at a time vs two

Each (table, year) runs in its own child process, so the peak RSS printed is that of one
ingestion (validation + load of one extract, including the interpreter and DuckDB). The
warehouse is created fresh under --out (default: a temporary directory) and removed after.
Then the whole set is ingested again to time the "unchanged" path (hash + skip).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TABLES = ("bef", "akm", "udda", "ind", "kraf", "adresser")


def _child(args: argparse.Namespace) -> None:
    import duckdb

    from pipeline.ingest import ingest_register, load_reference

    t0 = time.perf_counter()
    con = duckdb.connect(str(args.warehouse), config={"threads": args.threads} if args.threads else {})
    try:
        if args.table == "reference":
            meta = load_reference(con, args.data)
            rows, status = sum(meta["tables"].values()), meta["status"]
        else:
            meta = ingest_register(con, args.data, args.table, args.year)
            rows, status = meta["rows"], meta["status"]
    finally:
        con.close()
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"wall_s": wall, "peak_rss_mb": rss, "rows": rows, "status": status}))


def _run_child(data: Path, warehouse: Path, table: str, year: int, threads: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", "--data", str(data), "--warehouse", str(warehouse),
           "--table", table, "--year", str(year)]
    if threads:
        cmd += ["--threads", str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last, "process_s": total}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = total
    return out


def _side_by_side(args: argparse.Namespace, a: int, b: int) -> None:
    """Every register year into a fresh warehouse, as `boliglister run` loads them
    (pipeline.ingest.ingest_registers: a year's extracts side by side), once with one load at a
    time and once with INGEST_THREADS; rounds alternate. Prints wall and CPU time (this process:
    DuckDB's threads and the loading threads)."""
    import os

    import duckdb

    from pipeline.contract import available_years
    from pipeline.ingest import INGEST_THREADS, ingest_registers, load_reference

    print(f"data {args.data}  years {a}-{b}: one load at a time vs {INGEST_THREADS} side by side")
    for rnd in range(1, args.rounds + 1):
        for loads in (1, INGEST_THREADS):
            work = Path(tempfile.mkdtemp(prefix="bench_ingest_", dir=args.out))
            try:
                con = duckdb.connect(str(work / "warehouse.duckdb"))
                try:
                    load_reference(con, args.data)
                    t0, c0 = time.perf_counter(), os.times()
                    rows = 0
                    for year in range(a, b + 1):
                        tables = [t for t in TABLES if year in available_years(args.data, t)]
                        for table, outcome in ingest_registers(con, args.data, tables, year, threads=loads).items():
                            if isinstance(outcome, Exception):
                                sys.exit(f"{table} {year}: {outcome}")
                            rows += outcome["rows"]
                    wall, c1 = time.perf_counter() - t0, os.times()
                finally:
                    con.close()
            finally:
                shutil.rmtree(work, ignore_errors=True)
            cpu = c1.user - c0.user + c1.system - c0.system
            print(f"round {rnd}, {loads} at a time: {rows:,} rows, wall {wall:6.1f} s, CPU {cpu:6.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "national")
    ap.add_argument("--years", default="2022-2024")
    ap.add_argument("--out", type=Path, default=None, help="where to put the warehouse (default: a temp dir)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: DuckDB's own)")
    ap.add_argument("--side-by-side", action="store_true", help="time one load at a time against the loads of a year side by side")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of --side-by-side")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--table", help=argparse.SUPPRESS)
    ap.add_argument("--year", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return

    a, b = (int(x) for x in args.years.split("-"))
    if args.side_by_side:
        _side_by_side(args, a, b)
        return
    from pipeline.contract import available_years

    work = Path(tempfile.mkdtemp(prefix="bench_ingest_", dir=args.out))
    warehouse = work / "warehouse.duckdb"
    print(f"data {args.data}  years {a}-{b}  warehouse {warehouse}")
    print(f"{'table':<10}{'year':>6}{'rows':>12}{'status':>11}{'wall s':>9}{'process s':>11}{'peak RSS MB':>13}")
    try:
        for label in ("first load", "rerun (unchanged)"):
            print(f"-- {label}")
            total = 0.0
            r = _run_child(args.data, warehouse, "reference", 0, args.threads)
            print(f"{'reference':<10}{'':>6}{r.get('rows', ''):>12}{r.get('status', 'ERROR'):>11}"
                  f"{r.get('wall_s', 0):>9.2f}{r['process_s']:>11.2f}{r.get('peak_rss_mb', 0):>13.0f}")
            for year in range(a, b + 1):
                for table in TABLES:
                    if year not in available_years(args.data, table):
                        continue
                    r = _run_child(args.data, warehouse, table, year, args.threads)
                    if "error" in r:
                        print(f"{table:<10}{year:>6}  ERROR {r['error']}")
                        continue
                    total += r["wall_s"]
                    print(f"{table:<10}{year:>6}{r['rows']:>12}{r['status']:>11}{r['wall_s']:>9.2f}"
                          f"{r['process_s']:>11.2f}{r['peak_rss_mb']:>13.0f}")
            print(f"total ingest wall time (registers): {total:.1f} s")
        print(f"warehouse size: {warehouse.stat().st_size / 1e6:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
