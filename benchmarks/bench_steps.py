"""Where the time of one list year goes, at national scale: every Dagster step of a full run
(fresh warehouse) and of a rerun with corrected boundaries, summed by kind: ingestion, quality
checks (GX), calculation, publication. Answers "is validation a small share of the run?".

    uv run python benchmarks/bench_steps.py [--data benchmarks/data/national] [--year 2024]
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections import defaultdict
from pathlib import Path

import dagster as dg

from assets.resources import Settings
from assets.runner import run_list_years

ROOT = Path(__file__).resolve().parents[1]
INGESTION = {"reference", "boundaries", "history", "registers"}  # registers: the six extracts of a year, one step


def kind(step_key: str) -> str:
    if step_key.endswith("_quality"):
        return "quality checks (GX suites)"
    if step_key in INGESTION:
        return "ingestion (incl. blocking structural checks)"
    if step_key == "publication":
        return "publication (files, workbook, report)"
    return "calculation (SQL counts, classification, history)"


_drawing: list[float] = []


def _time_document_drawing() -> None:
    """The publication's documents are drawn inside the check areas_quality while its suites run
    in the GX worker (pipeline.publish.documents): that time is publication, not validation."""
    from pipeline.publish import documents

    prepare = documents.prepare

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return prepare(*args, **kwargs)
        finally:
            _drawing.append(time.perf_counter() - t)

    documents.prepare = timed


def measure(label: str, settings: Settings, year: int, detail: int = 0) -> None:
    instance = dg.DagsterInstance.ephemeral()
    _drawing.clear()
    t0 = time.perf_counter()
    run_list_years([year], settings, instance=instance)
    wall = time.perf_counter() - t0
    by_kind: dict[str, float] = defaultdict(float)
    by_step: dict[str, float] = defaultdict(float)
    for run in instance.get_runs():
        for stat in instance.get_run_step_stats(run.run_id):
            if stat.start_time and stat.end_time:
                by_kind[kind(stat.step_key)] += stat.end_time - stat.start_time
                by_step[stat.step_key] += stat.end_time - stat.start_time
    drawn = sum(_drawing)
    by_kind["quality checks (GX suites)"] -= drawn
    by_kind["publication (files, workbook, report)"] += drawn
    steps = sum(by_kind.values())
    print(f"\n{label}: wall {wall:.1f} s (steps {steps:.1f} s, Dagster and process overhead {wall - steps:.1f} s)")
    for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<52} {v:6.1f} s  {100 * v / wall:5.1f} %")
    if detail:
        print("  slowest steps:")
        for k, v in sorted(by_step.items(), key=lambda kv: -kv[1])[:detail]:
            print(f"    {k:<50} {v:6.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "national")
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "steps")
    ap.add_argument("--detail", type=int, default=0, help="also print the N slowest steps")
    args = ap.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    _time_document_drawing()
    base = dict(data_dir=str(args.data.resolve()), out_dir=str(args.out.resolve()))
    measure("full run (fresh warehouse)", Settings(**base), args.year, args.detail)
    measure("rerun with corrected boundaries", Settings(**base, boundaries_dir=str((args.data / "boundaries_corrected").resolve())), args.year, args.detail)


if __name__ == "__main__":
    main()
