"""National-scale benchmark of `boliglister run` (issue 3): one list year end to end from the
Parquet extracts into a fresh output folder, then a rerun with the corrected boundaries on the
already-ingested warehouse, then the yardstick (a single hand-written DuckDB query pipeline).
Each step runs as its own process; prints wall time and peak RSS.

    uv run python benchmarks/bench_generate.py            # once: benchmarks/data/national
    uv run python benchmarks/bench_run.py [--data DIR] [--year 2024] [--out DIR] [--rounds N]

With --rounds N the four measurements are repeated N times, one round after the other, and the
median of each ratio is printed too: this machine's speed drifts by 10-20 % over minutes, and
the yardstick drifts with it, so a single round's ratio can land on either side of an aim.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(label: str, cmd: list[str]) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    peak_mb = int(m.group(1)) / 1024 if m else float("nan")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-25:])
        sys.exit(f"{label} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{tail}")
    print(f"{label:<48} wall {wall:7.1f} s   peak RSS {peak_mb:7.0f} MB", flush=True)
    return wall, peak_mb, proc.stdout


def one_round(args: argparse.Namespace) -> tuple[float, float, float]:
    """full run / yardstick, boundary rerun / yardstick, peak GB of one round."""
    shutil.rmtree(args.out, ignore_errors=True)
    exe = [sys.executable, "-m", "assets.cli"]
    base = ["run", "--year", str(args.year), "--data", str(args.data), "--quiet"]
    full, full_mem, _ = timed(f"full run, list year {args.year} (fresh warehouse)", [*exe, *base, "--out", str(args.out)])
    rerun, rerun_mem, _ = timed(
        "rerun, corrected boundaries (same warehouse)",
        [*exe, *base, "--out", str(args.out), "--boundaries", str(args.data / "boundaries_corrected")],
    )
    same, same_mem, _ = timed("rerun, same inputs (nothing re-ingested)", [*exe, *base, "--out", str(args.out)])
    yard, yard_mem, _ = timed("yardstick: one hand-written DuckDB query", [sys.executable, "benchmarks/yardstick.py",
                                                                           "--data", str(args.data), "--year", str(args.year)])  # fmt: skip
    size = (args.out / "warehouse.duckdb").stat().st_size / 2**20
    peak = max(full_mem, rerun_mem, same_mem) / 1024
    print(f"\nwarehouse {size:.0f} MB; full run = {full / yard:.1f} x yardstick (aim 5 x), "
          f"boundary rerun = {rerun / yard:.1f} x (aim 2 x); peak {peak:.2f} GB (aim < 8 GB)")  # fmt: skip
    return full / yard, rerun / yard, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "national")
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "run")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    if not (args.data / "registers").is_dir():
        sys.exit(f"no data at {args.data}: run benchmarks/bench_generate.py first")
    results = []
    for r in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"\n-- round {r} of {args.rounds}")
        results.append(one_round(args))
    if args.rounds > 1:
        full = sorted(x[0] for x in results)
        rerun = sorted(x[1] for x in results)
        print(f"\n{args.rounds} rounds: full run {full[0]:.1f}-{full[-1]:.1f} x (median {statistics.median(full):.1f} x, aim 5 x), "
              f"boundary rerun {rerun[0]:.1f}-{rerun[-1]:.1f} x (median {statistics.median(rerun):.1f} x, aim 2 x), "
              f"peak {max(x[2] for x in results):.2f} GB")  # fmt: skip


if __name__ == "__main__":
    main()
