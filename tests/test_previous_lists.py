"""The comparison with last year (new/continuing marks, the areas that left, the movements) uses
last year as the history of the list year took it: from the history file, which holds only the
parallel and transformation lists, when that year came from there (METHOD.md § 6-7). So do the
list-count plausibility suite and the report's counts over the years."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from assets.cli import main
from pipeline import calculate
from pipeline.quality.validate import list_counts_frame
from tests.test_calculation import Y
from tests.test_cli import _world


@pytest.fixture(scope="module")
def official_run(tmp_path_factory):
    """The world of test_cli run for Y in official mode: the history file covers 2014..Y-1 (area A
    parallel each year), so no earlier list year is computed."""
    tmp = tmp_path_factory.mktemp("official")
    data = _world().write_data_dir(tmp / "data")
    out = tmp / "out"
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return data, out


def _column(ws, heading: str) -> dict[str, object]:
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    area, col = head.index("Boligområde"), head.index(heading)
    return {r[area]: r[col] for r in rows[1:] if r[area]}


def test_last_year_from_the_history_file_is_compared_on_its_lists(official_run):
    _, out = official_run
    wb = openpyxl.load_workbook(out / str(Y) / "lists.xlsx")
    # A is parallel this year and was parallel in Y-1 by the history file: continuing
    assert _column(wb["Parallelsamfund"], "Ny på listen") == {"Askeparken": "Nej"}
    # the file has no vulnerable list: not compared
    assert _column(wb["Udsatte boligområder"], "Ny på listen") == {"Askeparken": None}
    left = [r[0] for r in wb["Udgået siden sidste år"].iter_rows(values_only=True)]
    note = (f"Listerne for {Y - 1} er taget fra historikfilen, som kun har parallelsamfund: "
            "de øvrige lister sammenlignes ikke med sidste år.")  # fmt: skip
    assert note in left
    assert note in (out / str(Y) / "report.html").read_text(encoding="utf-8")


def _list_counts(summary_path) -> dict[str, dict]:
    checks = json.loads(summary_path.read_text(encoding="utf-8"))["checks"]
    return {c["check"]: c for c in checks if c["suite"] == "list_counts"}


def test_list_counts_frame_compares_only_the_lists_last_year_holds():
    areas = pd.DataFrame({"vulnerable": [True] * 30 + [False] * 10, "parallel": [True] * 25 + [False] * 15,
                          "transformation": [False] * 40, "prevention": [False] * 40})  # fmt: skip
    prev = pd.DataFrame({"parallel": [True] * 5 + [False] * 30})  # the file: parallel rows only
    row = list_counts_frame(areas, prev, ("parallel",)).iloc[0]
    assert row["parallel_count"] == 25 and row["parallel_count_prev"] == 5
    assert row["parallel_change"] == 1.0  # |25 - 5| / max(5, 20)
    assert row["vulnerable_count"] == 30 and pd.isna(row["vulnerable_count_prev"])
    assert row["vulnerable_change"] == 0.0  # not compared, where it would be 30 / 20
    assert pd.isna(row["transformation_count_prev"]) and pd.isna(row["prevention_count_prev"])
    # all lists known (a computed year): every list compared, a missing column counts 0
    full = list_counts_frame(areas, prev).iloc[0]
    assert full["vulnerable_count_prev"] == 0 and full["vulnerable_change"] == 1.5


def test_previous_areas_follow_the_history_then_the_published_year(official_run, tmp_path):
    _, out = official_run
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        # Y-1 from the history file: its parallel list only
        prev, known = calculate.previous_areas(con, out, Y)
        assert known == ("parallel",)
        assert prev["area_id"].to_list() == ["A"] and prev["parallel"].to_list() == [True]
        # Y+1: Y is computed with the boundaries in use: all its lists
        prev, known = calculate.previous_areas(con, out, Y + 1)
        assert known is None and sorted(prev["area_id"].to_list()) == ["A", "B", "C"]
        # Y+2: Y+1 neither computed nor from the file, and not published under `out`: nothing
        assert calculate.previous_areas(con, out, Y + 2) == (None, None)
        # ... published: its areas.csv
        (tmp_path / str(Y + 1)).mkdir()
        shutil.copy(out / str(Y) / "areas.csv", tmp_path / str(Y + 1) / "areas.csv")
        prev, known = calculate.previous_areas(con, tmp_path, Y + 2)
        assert known is None and sorted(prev["area_id"]) == ["A", "B", "C"]
        assert prev["parallel"].sum() == 1


def test_list_count_suite_of_the_run_compares_the_file_lists(official_run):
    _, out = official_run
    checks = _list_counts(out / str(Y) / "quality" / "summary.json")
    assert set(checks) == {f"{k}_count_plausible" for k in ("vulnerable", "parallel", "transformation", "prevention")}
    assert all(c["success"] and c["observed"] == {"observed_value": 0.0} for c in checks.values())


def test_counts_over_years_take_the_file_years_from_the_file(official_run):
    _, out = official_run
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        counts = calculate.list_counts_over_years(con, Y)
    from_file = counts.filter(source="file")
    assert from_file["list_year"].to_list() == list(range(2014, Y))
    assert set(from_file["list"].to_list()) == {"parallel"} and set(from_file["n"].to_list()) == {1}
    computed = {r["list"]: r["n"] for r in counts.filter(source="computed").to_dicts()}
    assert computed == {"vulnerable": 1, "parallel": 1, "transformation": 1, "prevention": 0, "combined_letting": 0}
    assert counts.filter(source="computed")["list_year"].unique().to_list() == [Y]
    html = (out / str(Y) / "report.html").read_text(encoding="utf-8")
    assert f"For 2014-{Y - 1} er antallet på parallelsamfundslisten" in html


def test_publication_without_the_stored_checks_validates_against_the_file_lists(official_run, tmp_path):
    """A publication materialised without the check areas_quality (e.g. from the UI) runs the
    list-year suites itself, with last year's lists as the check takes them."""
    from assets.outputs import publication
    from assets.resources import Settings, warehouse_for

    data, out = official_run
    out2 = tmp_path / "out"
    out2.mkdir()
    shutil.copy(out / "warehouse.duckdb", out2 / "warehouse.duckdb")
    with duckdb.connect(str(out2 / "warehouse.duckdb")) as con:
        con.execute("delete from meta_quality where scope = 'list_year'")
    settings = Settings(data_dir=str(data), out_dir=str(out2))
    result = dg.materialize([publication], partition_key=str(Y),
                            resources={"settings": settings, "warehouse": warehouse_for(settings)})
    assert result.success
    checks = _list_counts(out2 / str(Y) / "quality" / "summary.json")
    assert len(checks) == 4 and all(c["success"] for c in checks.values())
