"""Is the yardstick a fair one? Its per-area counts (benchmarks/yardstick.py, one DuckDB query over
the Parquet files, code lists of rule set 2021 written into it) against what the national run
published in OUT/Y/areas.csv and OUT/Y/national.json: residents, the two yearly C1 and C2 shares,
C3, the area's and the region's mean income for C4, C5, and the national conviction counts.

The ratio of a run to the yardstick only means something when both compute the same list year:
a yardstick that left work out (a code list, a filter of METHOD.md) would look faster than the
real computation is. Prints the number of differences and the first ones; exit 1 on any.

    uv run python benchmarks/bench_run.py                # writes benchmarks/results/run/2024
    uv run python benchmarks/check_yardstick.py [--data DIR] [--out DIR] [--year 2024]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import yardstick  # noqa: E402

# Shares are the same integer counts divided in both programs; means of incomes are sums of whole
# øre divided by counts, in another order of operations. Anything beyond this is a real difference.
RELATIVE = 1e-12


def _differs(mine: float | None, published: str) -> bool:
    if mine is None or published == "":
        return (mine is None) != (published == "")
    b = float(published)
    return abs(mine - b) > RELATIVE * max(1.0, abs(b))


def compare(data: Path, out: Path, year: int) -> tuple[int, list[str]]:
    """(areas compared, differences as text lines)."""
    rows = duckdb.connect().execute(yardstick.SQL, yardstick.parameters(data, year)).fetchall()
    with open(out / str(year) / "areas.csv", newline="", encoding="utf-8") as f:
        published = {r["area_id"]: r for r in csv.DictReader(f)}
    national = json.loads((out / str(year) / "national.json").read_text(encoding="utf-8"))
    diffs: list[str] = []

    def share(n, d):
        return n / d if d else None

    for r in rows:
        (area, residents, c1pn, c1pd, c1ln, c1ld, c2pn, c2pd, c2ln, c2ld, c3n, c3d, c4n, c4s, rn, rs, c5n,
         d_last, n_last, d_prev, n_prev) = r  # fmt: skip
        o = published.get(area)
        if o is None:
            diffs.append(f"{area}: not in areas.csv")
            continue
        if int(o["residents"]) != (residents or 0):
            diffs.append(f"{area}: residents {residents or 0} against {o['residents']}")
        if o["eligible"] != "true":
            continue  # the shares of an area that is not assessed are not published
        values = {
            "labour_share_prev": share(c1pn, c1pd),
            "labour_share_last": share(c1ln, c1ld),
            "conviction_share_prev": share(c2pn, c2pd),
            "conviction_share_last": share(c2ln, c2ld),
            "basic_edu_share": share(c3n, c3d),
            "area_mean_income": c4s / c4n / 100 if c4n else None,
            "region_mean_income": rs / rn / 100 if rn else None,
            "nonwestern_share": share(c5n, residents),
        }
        diffs += [f"{area}: {k} {v!r} against {o[k]!r}" for k, v in values.items() if _differs(v, o[k])]
    if len(rows) != len(published):
        diffs.append(f"{len(rows)} areas in the yardstick against {len(published)} in areas.csv")
    counts = national["conviction_counts"]
    expected = {"last": (n_last, d_last), "prev": (n_prev, d_prev)} if rows else {}
    for key, (n, d) in expected.items():
        if (counts[key]["convicted"], counts[key]["persons"]) != (n, d):
            diffs.append(f"national {key}: {n} of {d} against {counts[key]['convicted']} of {counts[key]['persons']}")
    return len(rows), diffs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "national")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "run")
    ap.add_argument("--year", type=int, default=2024)
    args = ap.parse_args()
    n, diffs = compare(args.data, args.out, args.year)
    print(f"yardstick against the run, list year {args.year}: {n} areas, {len(diffs)} differences")
    for line in diffs[:20]:
        print("  " + line)
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
