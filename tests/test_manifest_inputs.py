"""manifest.json (spec/OUTPUTS.md): the SHA-256 of every input file the run read, including the
register extracts of the earlier list years its history computed from the registers (METHOD.md
§ 6), and `started` = the start of the run, not of the publication step.

List year 2016 on a copy of the shipped samples: the history file covers 2008-2013, so the
history of 2016 computes 2014 and 2015 from the registers (data years 2012-2016 are read).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from assets.cli import main
from assets.outputs import run_started
from assets.resources import Settings
from pipeline import contract

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
Y = 2016
COMPUTED = [2014, 2015]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _run(data: Path, out: Path) -> tuple[dict, dt.datetime]:
    began = dt.datetime.now(dt.timezone.utc)
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return json.loads((out / str(Y) / "manifest.json").read_text(encoding="utf-8")), began


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("data") / "samples"
    shutil.copytree(SAMPLES, d)
    return d


@pytest.fixture(scope="module")
def first(data, tmp_path_factory) -> tuple[Path, dict, dt.datetime]:
    out = tmp_path_factory.mktemp("out")
    manifest, began = _run(data, out)
    return out, manifest, began


def _expected_registers() -> set[str]:
    years = [*COMPUTED, Y]
    return {f"registers/{t}_{yr}.parquet" for y in years for t, yr in contract.needed_registers(y)}


def test_history_sources_are_what_the_run_used(first):
    _, m, _ = first
    assert m["history_mode"] == "official"
    assert m["history_sources"] == {**{str(y): "file" for y in range(2008, 2014)}, "2014": "computed", "2015": "computed"}


def test_registers_of_computed_history_years_are_in_the_manifest(first, data):
    _, m, _ = first
    registers = {k for k in m["inputs"] if k.startswith("registers/")}
    assert registers == _expected_registers()
    own = {f"registers/{t}_{yr}.parquet" for t, yr in contract.needed_registers(Y)}
    # read only by the computed years 2014 and 2015 (their own registers, not 2016's)
    only_history = registers - own
    assert {"registers/bef_2014.parquet", "registers/bef_2013.parquet", "registers/akm_2012.parquet",
            "registers/kraf_2012.parquet", "registers/ind_2013.parquet"} <= only_history  # fmt: skip
    assert len(only_history) == 12
    for key in registers:
        path = data / key
        entry = m["inputs"][key]
        assert entry["sha256"] == _sha256(path), key
        assert entry["rows"] == pl.read_parquet(path).height, key


def test_other_inputs_are_kept(first, data):
    _, m, _ = first
    for key in ("boundaries/areas.csv", "boundaries/parcels.csv", "history/lists.csv"):
        assert m["inputs"][key] == {"sha256": _sha256(data / key)}
    assert any(k.startswith("reference/") for k in m["inputs"])
    # 2014-2016 are all computed under the built-in rule set 2014
    from pipeline.rules import RULES_DIR

    assert {k: v for k, v in m["inputs"].items() if k.startswith("rules/")} == {
        "rules/2014.toml": {"sha256": _sha256(RULES_DIR / "2014.toml"), "origin": "package"}
    }


def test_started_is_the_start_of_the_run(first):
    out, m, began = first
    started, finished = _utc(m["started"]), _utc(m["finished"])
    assert started.tzinfo is not None and started.utcoffset() == dt.timedelta(0)
    assert began.replace(microsecond=0) <= started < finished
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        first_ingest, last_ingest = con.execute("select min(ingested_at), max(ingested_at) from meta_ingest").fetchone()
    # the run began before it ingested anything; the publication (finished) came after
    assert started <= first_ingest.replace(tzinfo=dt.timezone.utc)
    assert last_ingest.replace(tzinfo=dt.timezone.utc) < finished + dt.timedelta(seconds=1)


def test_a_changed_file_of_a_computed_history_year_changes_the_manifest(first, data):
    """bef_2014 is read only by the computed years 2014 and 2015: rewritten (same rows, other
    bytes) its new SHA-256 is in the rerun's manifest; areas.csv and national.json are the same bytes."""
    out, m1, _ = first
    before = {n: (out / str(Y) / n).read_bytes() for n in ("areas.csv", "national.json")}
    bef = data / "registers" / "bef_2014.parquet"
    old_sha = _sha256(bef)
    assert m1["inputs"]["registers/bef_2014.parquet"]["sha256"] == old_sha
    pl.read_parquet(bef).write_parquet(bef, compression="uncompressed")
    new_sha = _sha256(bef)
    assert new_sha != old_sha
    m2, began = _run(data, out)
    assert m2["inputs"]["registers/bef_2014.parquet"]["sha256"] == new_sha
    changed = {k for k in m1["inputs"] if m1["inputs"][k] != m2["inputs"][k]}
    assert changed == {"registers/bef_2014.parquet"}
    assert began.replace(microsecond=0) <= _utc(m2["started"]) < _utc(m2["finished"])
    assert {n: (out / str(Y) / n).read_bytes() for n in before} == before


def test_started_falls_back_to_the_step_outside_a_run(tmp_path):
    step = dt.datetime(2024, 12, 1, 6, 0, 5, tzinfo=dt.timezone.utc)
    s = Settings(data_dir=str(tmp_path), out_dir=str(tmp_path / "o"))
    assert run_started(s, step) == step
    begun = "2024-12-01T06:00:00.250000+00:00"
    assert run_started(Settings(**{**s.model_dump(), "run_started": begun}), step) == _utc(begun)
