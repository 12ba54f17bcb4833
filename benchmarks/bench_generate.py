"""Benchmark the synthetic register generator: wall time per step, peak RSS, file sizes.

    uv run python benchmarks/bench_generate.py [--persons N] [--years A-B] [--seed S]
                                               [--area-share X] [--out DIR]

Defaults: national scale (5,900,000 persons, 2022-2024) into benchmarks/data/national, which
other benchmarks read (benchmarks/data/ is git-ignored).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.generate import generate  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=5_900_000)
    ap.add_argument("--years", default="2022-2024")
    ap.add_argument("--seed", type=int, default=20241201)
    ap.add_argument("--area-share", type=float, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "data" / "national")
    args = ap.parse_args()
    a, b = (int(x) for x in args.years.split("-"))

    t0 = time.perf_counter()
    last = [t0]

    def progress(msg: str) -> None:
        now = time.perf_counter()
        print(f"{now - t0:8.1f}s  +{now - last[0]:6.1f}s  peak RSS {peak_rss_mb():7.0f} MB  {msg}", flush=True)
        last[0] = now

    summary = generate(args.out, args.persons, (a, b), args.seed, progress=progress, area_share=args.area_share)
    wall = time.perf_counter() - t0
    print(f"\npersons {args.persons:,}, years {a}-{b}, seed {args.seed}, out {args.out}")
    print(f"wall time {wall:.1f} s, peak RSS {peak_rss_mb():.0f} MB, areas {summary['areas']}, "
          f"history rows {summary.get('history_rows')}")
    print("file sizes (MB):")
    for sub in ("registers", "boundaries", "boundaries_corrected", "history"):
        for p in sorted((args.out / sub).iterdir()):
            print(f"  {sub}/{p.name:28s} {p.stat().st_size / 1e6:9.2f}")
    print(f"total {summary['bytes'] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
