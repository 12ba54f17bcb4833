"""What only a fresh process shows: the console script's exit code after its quick exit, and the
Great Expectations worker process (`boliglister run` validates the suites there when GX is not
imported yet, which in the test process it usually is)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from pipeline.quality.gx_runner import validate_here

ROOT = Path(__file__).resolve().parents[1]

FRAME = {
    "vulnerable_count": 30, "vulnerable_count_prev": 10, "vulnerable_change": 1.0,
    "parallel_count": 5, "parallel_count_prev": 5, "parallel_change": 0.0,
    "transformation_count": 4, "transformation_count_prev": 4, "transformation_change": 0.0,
    "prevention_count": 2, "prevention_count_prev": 3, "prevention_change": 0.05,
}  # fmt: skip

WORKER_SCRIPT = """
import json, sys
import pandas as pd
from dataclasses import asdict
from pipeline.quality import gx_runner
if __name__ == "__main__":
    assert gx_runner.start_worker()
    outcomes = gx_runner.run_suite("list_counts", pd.DataFrame([json.loads(sys.argv[1])]), year=2024, list_year=2024)
    assert "great_expectations" not in sys.modules, "GX was imported in the parent"
    print(json.dumps([asdict(o) for o in outcomes], default=list))
"""


def test_suites_validated_in_the_worker_process_give_the_same_outcomes():
    proc = subprocess.run([sys.executable, "-c", WORKER_SCRIPT, json.dumps(FRAME)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    in_worker = json.loads(proc.stdout.strip().splitlines()[-1])
    here = validate_here("list_counts", pd.DataFrame([FRAME]), year=2024, list_year=2024)
    assert [(o["check"], o["success"], o["observed"]) for o in in_worker] == [
        (o.check, o.success, json.loads(json.dumps(o.observed))) for o in here
    ]
    assert any(not o["success"] for o in in_worker)  # vulnerable tripled: the plausibility check fails


NICENESS_SCRIPT = """
import json
import assets  # as the command does: its environment defaults reach the worker
from pipeline.quality import gx_runner
from tests.process_probe import state
if __name__ == "__main__":
    assert gx_runner.start_worker()
    print(json.dumps([state(), gx_runner.submit(state).result()]))
"""


def test_the_worker_yields_the_cores_to_the_run():
    """The GX worker runs at a lower priority than the run (docs/PERFORMANCE.md, tenth session),
    collects garbage less often, keeps its imports out of the collector's walks, and starts numpy
    without OpenBLAS's thread pool (eighteenth session)."""
    from pipeline.gc_policy import THRESHOLDS
    from pipeline.quality.gx_runner import WORKER_NICENESS

    proc = subprocess.run([sys.executable, "-c", NICENESS_SCRIPT], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    parent, worker = json.loads(proc.stdout.strip().splitlines()[-1])
    assert WORKER_NICENESS == 10
    assert worker["nice"] == min(19, parent["nice"] + WORKER_NICENESS)
    assert THRESHOLDS == (50_000, 50, 100)
    assert parent["gc"] == [700, 10, 10] and parent["frozen"] == 0  # a plain process, not the command
    assert worker["gc"] == list(THRESHOLDS)
    assert worker["frozen"] > 10_000  # GX, pandas, polars
    assert parent["blas"] == worker["blas"] == "1"


ENTRY_SCRIPT = """
import gc, json, os, sys
sys.argv = ["boliglister", "--version"]
from assets.cli import entry
try:
    entry()
except SystemExit:
    print(json.dumps({"gc": list(gc.get_threshold()), "blas": os.environ.get("OPENBLAS_NUM_THREADS")}))
"""


def test_the_command_collects_garbage_less_often():
    from pipeline.gc_policy import THRESHOLDS

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", ENTRY_SCRIPT], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = json.loads(proc.stdout.strip().splitlines()[-1])
    assert state == {"gc": list(THRESHOLDS), "blas": "1"}


def test_console_script_exit_codes(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "assets.cli", "--version"], capture_output=True, text=True, cwd=ROOT,
                        timeout=120)  # fmt: skip
    assert ok.returncode == 0 and "boliglister" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "assets.cli", "run", "--year", "2024", "--data", str(tmp_path / "none"),
         "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "none" in bad.stdout + bad.stderr
    assert not (tmp_path / "out" / "2024").exists()


WORKBOOK_SCRIPT = """
import sys
from pathlib import Path
import polars as pl
from pipeline.publish import read_areas_csv, write_workbook
from pipeline.quality import gx_runner
if __name__ == "__main__":
    f = Path(sys.argv[1])
    assert gx_runner.start_worker()
    parcels = pl.read_csv(f / "parcels_a.csv", schema_overrides={"area_id": pl.String, "matrikelnr": pl.String})
    pending = gx_runner.submit(write_workbook, Path(sys.argv[2]), read_areas_csv(f / "out_a" / "2021" / "areas.csv"),
                               read_areas_csv(f / "out_a" / "2020" / "areas.csv"), parcels, 2021, "2021")
    assert pending is not None
    pending.result()
    print("written")
"""


def test_workbook_written_in_the_worker_process_equals_one_written_here(tmp_path):
    """The publication hands the workbook to the worker process while it draws the report."""
    import openpyxl
    import polars as pl

    from pipeline.publish import read_areas_csv, write_workbook

    fixtures = ROOT / "tests" / "fixtures" / "publish"
    there = tmp_path / "worker" / "lists.xlsx"
    proc = subprocess.run([sys.executable, "-c", WORKBOOK_SCRIPT, str(fixtures), str(there)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert proc.returncode == 0 and "written" in proc.stdout, proc.stderr[-2000:]
    here = tmp_path / "here" / "lists.xlsx"
    parcels = pl.read_csv(fixtures / "parcels_a.csv", schema_overrides={"area_id": pl.String, "matrikelnr": pl.String})
    write_workbook(here, read_areas_csv(fixtures / "out_a" / "2021" / "areas.csv"),
                   read_areas_csv(fixtures / "out_a" / "2020" / "areas.csv"), parcels, 2021, "2021")  # fmt: skip

    def cells(path: Path) -> dict[str, list[tuple]]:
        wb = openpyxl.load_workbook(path, read_only=True)
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}

    a, b = cells(there), cells(here)
    assert list(a) == list(b) and len(a) >= 3
    assert a == b


def test_ctrl_c_stops_the_run_with_one_line_and_publishes_nothing(tmp_path):
    """Ctrl-C signals the whole process group (the run and its GX worker): one line, exit 130, no
    traceback (the worker printed one of its own), and no folder of the year left behind.

    The run on the samples takes seconds: on a loaded machine this test may read the progress
    lines only after the run has published and ended, and its Ctrl-C then comes too late. Such
    an attempt proves nothing and is repeated (at most three); a Ctrl-C sent while the year is
    not yet published must always stop it."""
    import os
    import signal

    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        proc = subprocess.Popen([sys.executable, "-m", "assets.cli", "run", "--year", "2024", "--out", str(out)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)  # fmt: skip
        seen = []
        for line in proc.stderr:  # progress lines, one per step: interrupt during the second step
            seen.append(line)
            if sum(x.startswith("[") for x in seen) >= 2:
                break
        too_late = proc.poll() is not None or (out / "2024").exists()
        if not too_late:
            os.killpg(proc.pid, signal.SIGINT)
        rest_out, rest_err = proc.communicate(timeout=300)
        if not too_late:
            break
    assert not too_late, "every attempt read the second progress line only after the run had published"
    err = "".join(seen) + rest_err
    assert proc.returncode == 130, err[-3000:]
    assert err.strip().splitlines()[-1] == (
        "boliglister: interrupted: the list year being computed was not published (its earlier outputs are untouched)"
    )
    assert "Traceback" not in err and "wrote" not in rest_out
    assert sorted(p.name for p in out.iterdir()) == ["warehouse.duckdb"]
