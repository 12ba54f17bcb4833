"""`compare` on hand-made runs: run B is run A's 2021 with corrected boundaries (see
tests/fixtures/publish/make_fixtures.py): A03 Vollsmose loses 500 residents and its labour share
falls from 41 % to 39 % (off the vulnerable list); A06 Rolig Park is split into A06N (a
prevention area) and A06S; A02 gains 63 residents; every other area is identical."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from rich.console import Console

from pipeline.errors import InputError
from assets.cli import main
from pipeline.outputs import staged_year_folder
from pipeline.publish.compare import COMPARE_SCHEMA, compare_runs, format_compare, write_compare

F = Path(__file__).parent / "fixtures" / "publish"
A, B = F / "out_a", F / "out_b"

NULL6 = dict.fromkeys(["labour_share_pp", "conviction_share_pp", "conviction_ratio_change",
                       "basic_edu_share_pp", "income_ratio_pp", "nonwestern_share_pp"])
ZERO6 = dict.fromkeys(NULL6, 0.0)


def test_compare_fixture_runs():
    df = compare_runs(A, B, 2021)
    assert df.schema == pl.Schema(COMPARE_SCHEMA)
    assert df.to_dicts() == [
        {"area_id": "A06N", "area_name": "Rolig Park Nord", "kom": 167, "presence": "only_b",
         "lists_a": "", "lists_b": "prevention", "joined": "prevention", "left": "", "membership_changed": True,
         "residents_a": None, "residents_b": 1400, "residents_change": None, "eligible_a": None, "eligible_b": True, **NULL6,
         "n_criteria_a": None, "n_criteria_b": 0},
        {"area_id": "A03", "area_name": "Vollsmose", "kom": 461, "presence": "both",
         "lists_a": "vulnerable", "lists_b": "", "joined": "", "left": "vulnerable", "membership_changed": True,
         "residents_a": 7000, "residents_b": 6500, "residents_change": -500, "eligible_a": True, "eligible_b": True, **ZERO6, "labour_share_pp": -2.0,
         "n_criteria_a": 2, "n_criteria_b": 1},
        {"area_id": "A06", "area_name": "Rolig Park", "kom": 167, "presence": "only_a",
         "lists_a": "", "lists_b": "", "joined": "", "left": "", "membership_changed": False,
         "residents_a": 2500, "residents_b": None, "residents_change": None, "eligible_a": True, "eligible_b": None, **NULL6,
         "n_criteria_a": 0, "n_criteria_b": None},
        {"area_id": "A06S", "area_name": "Rolig Park Syd", "kom": 167, "presence": "only_b",
         "lists_a": "", "lists_b": "", "joined": "", "left": "", "membership_changed": False,
         "residents_a": None, "residents_b": 1100, "residents_change": None, "eligible_a": None, "eligible_b": True, **NULL6,
         "n_criteria_a": None, "n_criteria_b": 0},
        {"area_id": "A02", "area_name": "Gellerupparken", "kom": 751, "presence": "both",
         "lists_a": "vulnerable,parallel", "lists_b": "vulnerable,parallel", "joined": "", "left": "",
         "membership_changed": False, "residents_a": 5437, "residents_b": 5500, "residents_change": 63, "eligible_a": True, "eligible_b": True, **ZERO6,
         "n_criteria_a": 2, "n_criteria_b": 2},
    ]


def test_compare_reversed_swaps_signs():
    df = compare_runs(B, A, 2021)
    row = df.filter(pl.col("area_id") == "A03").to_dicts()[0]
    assert (row["joined"], row["left"], row["residents_change"], row["labour_share_pp"]) == ("vulnerable", "", 500, 2.0)
    assert df.filter(pl.col("area_id") == "A06N")["presence"].item() == "only_a"


def test_write_compare_csv(tmp_path):
    path = tmp_path / "sub" / "compare.csv"
    write_compare(compare_runs(A, B, 2021), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("area_id,area_name,kom,presence,lists_a,lists_b,joined,left,membership_changed,"
                        "residents_a,residents_b,residents_change,eligible_a,eligible_b,labour_share_pp,conviction_share_pp,"
                        "conviction_ratio_change,basic_edu_share_pp,income_ratio_pp,nonwestern_share_pp,"
                        "n_criteria_a,n_criteria_b")
    assert lines[2] == 'A03,Vollsmose,461,both,vulnerable,"","",vulnerable,true,7000,6500,-500,true,true,-2.0,0.0,0.0,0.0,0.0,0.0,2,1'
    assert lines[3] == 'A06,Rolig Park,167,only_a,"","","","",false,2500,,,true,,,,,,,,0,'
    assert len(lines) == 6


def test_format_compare_table():
    console = Console(record=True, width=160)
    console.print(format_compare(compare_runs(A, B, 2021)))
    out = console.export_text()
    assert "2 change list membership, 1 only in A, 2 only in B" in out
    vollsmose = next(line for line in out.splitlines() if "Vollsmose (A03)" in line)
    assert [c.strip() for c in vollsmose.strip("│ ").split("│")] == [
        "Vollsmose (A03)", "461", "A+B", "vuln", "-", "-500", "-2.0", "0.0", "0.00", "0.0", "0.0", "0.0"]
    nord = next(line for line in out.splitlines() if "(A06N)" in line)
    assert [c.strip() for c in nord.strip("│ ").split("│")][2:6] == ["B", "-", "prev", "1400"]


def test_identical_runs_give_an_empty_table(tmp_path):
    df = compare_runs(A, A, 2021)
    assert df.height == 0 and df.schema == pl.Schema(COMPARE_SCHEMA)
    write_compare(df, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").count("\n") == 1


def test_errors_name_file_and_year(tmp_path):
    with pytest.raises(InputError) as err:
        compare_runs(A, B, 2020)  # run B has no 2020
    assert str(err.value) == f"file {B / '2020' / 'areas.csv'}, year 2020: file not found (run `boliglister run` for this year first)"
    wrong = tmp_path / "run" / "2021"
    wrong.mkdir(parents=True)
    shutil.copy(A / "2020" / "areas.csv", wrong / "areas.csv")
    with pytest.raises(InputError, match="column list_year, year 2021: 7 row\\(s\\) are for another list year"):
        compare_runs(A, tmp_path / "run", 2021)


def test_cli_writes_csv(tmp_path):
    out = tmp_path / "c.csv"
    res = CliRunner().invoke(main, ["compare", str(A), str(B), "--year", "2021", "--csv", str(out)])
    assert res.exit_code == 0, res.output
    assert "Vollsmose (A03)" in res.output and f"wrote {out}" in res.output
    assert out.read_text(encoding="utf-8").count("\n") == 6


def test_cli_default_csv_survives_the_next_run_of_that_year(tmp_path):
    # The default used to be OUT_B/Y/compare_<A>.csv, inside the folder the next `run` of year Y
    # replaces whole: the comparison vanished without a word.
    b = tmp_path / "out_b"
    shutil.copytree(B, b)
    res = CliRunner().invoke(main, ["compare", str(A), str(b), "--year", "2021"])
    assert res.exit_code == 0, res.output
    written = b / "compare" / "2021" / "compare_out_a.csv"
    assert f"wrote {written}" in res.output
    text = written.read_text(encoding="utf-8")
    assert text.count("\n") == 6 and text.startswith("area_id,")
    with staged_year_folder(b, 2021) as folder:  # what `run --year 2021 --out out_b` does at the end
        shutil.copy(B / "2021" / "areas.csv", folder / "areas.csv")
    assert written.read_text(encoding="utf-8") == text
    assert not list((b / "2021").glob("compare*"))


def test_an_area_crossing_the_minimum_is_marked_on_the_terminal():
    """750 -> 1,194 residents makes an area eligible: every criterion appears at once, so the
    table says so beside the residents' change (the CSV has eligible_a, eligible_b)."""
    from pipeline.publish.compare import _residents_cell

    row = {"presence": "both", "residents_a": 750, "residents_b": 1194, "residents_change": 444,
           "eligible_a": False, "eligible_b": True}
    assert _residents_cell(row) == "+444 (now eligible)"
    assert _residents_cell({**row, "residents_change": -444, "eligible_a": True, "eligible_b": False}) == (
        "-444 (no longer eligible)")
    assert _residents_cell({**row, "eligible_a": True}) == "+444"
    assert _residents_cell({**row, "presence": "only_b"}) == "1194"
