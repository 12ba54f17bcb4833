"""Cross-check of a national-scale run against the independent implementation of METHOD.md
(tests/independent_method.py, plain polars, no DuckDB): every value of OUT/Y/areas.csv and the
national references of OUT/Y/national.json. The test suite does this on small data; national
scale is where storage and query-plan effects show (a DuckDB statistics bug once emptied the
regional incomes of a first national run). Prints the number of differences and the first ones.

    uv run python benchmarks/bench_run.py                       # writes benchmarks/results/run/2024
    uv run python benchmarks/check_independent.py [--data DIR] [--out DIR] [--year 2024]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.independent_method import IndependentMethod  # noqa: E402
from tests.test_independent import differences, read_project  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "national")
    ap.add_argument("--boundaries", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "run")
    ap.add_argument("--year", type=int, default=2024)
    args = ap.parse_args()
    manifest = json.loads((args.out / str(args.year) / "manifest.json").read_text())
    boundaries = args.boundaries or Path(manifest["boundaries"])
    t0 = time.perf_counter()
    method = IndependentMethod(args.data, boundaries)
    mine = method.areas(args.year)
    project = read_project(args.out / str(args.year) / "areas.csv")
    diffs = differences(args.year, project, mine)
    national = json.loads((args.out / str(args.year) / "national.json").read_text())
    expected = method.national(args.year)
    for key, value in expected.items():
        got = national.get(key)
        if isinstance(value, float) and isinstance(got, float):
            same = math.isclose(value, got, rel_tol=1e-12)
        else:
            same = json.dumps(value, sort_keys=True) == json.dumps(got, sort_keys=True)
        if not same:
            diffs.append(f"national.json {key}: project={got!r} independent={value!r}")
    print(f"list year {args.year}, boundaries {boundaries}: {project.height} areas compared in "
          f"{time.perf_counter() - t0:.0f} s, {len(diffs)} differences")  # fmt: skip
    for d in diffs[:20]:
        print("  " + d)
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
