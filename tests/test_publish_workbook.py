"""lists.xlsx written from hand-made areas.csv fixtures and read back with openpyxl.

Fixture facts used below (tests/fixtures/publish/, values chosen by hand):
2021 (rule set 2021) vs 2020 (rule set 2018):
  vulnerable 2020 {A01,A02,A03,A05} -> 2021 {A01,A02,A03,A07}: A07 new, A05 left (800 residents)
  parallel   2020 {A01,A02,A03}     -> 2021 {A01,A02,A07}:     A07 new, A03 left (criteria)
  transformation {A01} both years; prevention 2021 {A04} (new list: new)
A04's conviction ratio is exactly 2.0 (prevention: >= 2, met) and nonwestern 0.35 (> 0.30, met).
Under rule sets 2018 and 2021 the conviction share (percent) is shown just before its multiple of
the national share (the value the threshold is applied to), e.g. A01 2021: 0.04224 and 3.2.
2015 vs 2014 (rule set 2014): ghetto list {B01,B02} -> {B01}; combined letting {B01,B03} both.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipeline.errors import InputError
from pipeline.publish import read_areas_csv, write_workbook
from pipeline.publish.workbook import NO_PREV, SHEET_LEFT, sheet_name

F = Path(__file__).parent / "fixtures" / "publish"
HEAD = [
    "Kommune", "Boligområde", "Beboere", "Andel uden for arbejdsmarked og uddannelse",
    "Dømte (andel)", "Dømte (gange landsgennemsnit)", "Andel kun grundskole",
    "Gennemsnitlig bruttoindkomst i pct. af regionen", "Andel ikke-vestlige",
    "Opfyldte kriterier", "Ny på listen",
]
ALL5 = "arbejdsmarked, dømte, grundskole, indkomst, ikke-vestlige"


def areas(year: int, run: str = "out_a") -> pl.DataFrame:
    return read_areas_csv(F / run / str(year) / "areas.csv")


def parcels() -> pl.DataFrame:
    return pl.read_csv(F / "parcels_a.csv", schema_overrides={"area_id": pl.String, "matrikelnr": pl.String})


def rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


@pytest.fixture(scope="module")
def wb2021(tmp_path_factory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("wb") / "2021" / "lists.xlsx"
    write_workbook(path, areas(2021), areas(2020), parcels(), 2021, "2021")
    return openpyxl.load_workbook(path)


def test_sheets_of_rule_set_2021(wb2021):
    assert wb2021.sheetnames == [
        "Udsatte boligområder", "Parallelsamfund", "Omdannelsesområder", "Forebyggelsesområder",
        "Udgået siden sidste år", "Matrikler", "Forklaring",
    ]


def test_parallel_sheet_cells(wb2021):
    got = rows(wb2021["Parallelsamfund"])
    assert got == [
        (*HEAD, "År på listen", "Område-id"),
        ("Aalborg", "Ny Vest", 3000, 0.45, 0.0462, 3.5, 0.7, 0.5, 0.55, ALL5, "Ja", 1, "A07"),
        ("Aarhus", "Gellerupparken", 5437, 0.39, 0.033, 2.5, 0.62, 0.48, 0.79,
         "grundskole, indkomst, ikke-vestlige", "Nej", 3, "A02"),
        ("København", "Mjølnerparken", 1766, 0.43, 0.04224, 3.2, 0.65, 0.5, 0.82, ALL5, "Nej", 10, "A01"),
    ]


def test_number_formats_header_and_widths(wb2021):
    ws = wb2021["Udsatte boligområder"]
    assert ws["C2"].number_format == "#,##0"
    assert ws["D2"].number_format == "0.0%"  # labour share: percent, one decimal
    assert ws["E2"].number_format == "0.0%"  # conviction share: percent, one decimal
    assert ws["F2"].number_format == "0.00"  # conviction: multiple of the national share
    assert ws["H2"].number_format == "0.0%"  # income as percent of the region
    assert ws["A1"].font.b and ws["A1"].alignment.wrap_text
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:L5"
    assert ws.column_dimensions["B"].width > 10
    # vulnerable has no "years on the list" column
    assert [c.value for c in ws[1]] == [*HEAD, "Område-id"]
    assert [ws.cell(r, 2).value for r in range(2, 6)] == ["Ny Vest", "Gellerupparken", "Mjølnerparken", "Vollsmose"]
    assert [ws.cell(r, 11).value for r in range(2, 6)] == ["Ja", "Nej", "Nej", "Nej"]


def test_conviction_share_shown_as_percent_beside_the_multiple(wb2021):
    """METHOD.md § 7: the criterion values as percentages to one decimal. The conviction criterion
    of rule sets 2018/2021 is judged on the multiple of the national share; the share itself is
    shown too, as a percentage, just before the multiple."""
    for name in ("Udsatte boligområder", "Parallelsamfund", "Forebyggelsesområder"):
        ws = wb2021[name]
        assert (ws["E1"].value, ws["F1"].value) == ("Dømte (andel)", "Dømte (gange landsgennemsnit)"), name
    ws = wb2021["Udsatte boligområder"]
    assert ws["B4"].value == "Mjølnerparken"
    assert (ws["E4"].value, ws["E4"].number_format) == (0.04224, "0.0%")  # shown 4.2 %
    assert (ws["F4"].value, ws["F4"].number_format) == (3.2, "0.00")
    left = wb2021[SHEET_LEFT]
    assert (left["F1"].value, left["F3"].value, left["F3"].number_format) == ("Dømte (andel)", 0.02772, "0.0%")


def test_prevention_sheet_uses_prevention_thresholds(wb2021):
    got = rows(wb2021["Forebyggelsesområder"])
    assert got[1] == ("Aalborg", "Skovparken", 1200, 0.32, 0.0264, 2, 0.55, 0.6, 0.35,
                      "arbejdsmarked, dømte, indkomst, ikke-vestlige", "Ja", "A04")
    assert len(got) == 2


def test_transformation_sheet(wb2021):
    got = rows(wb2021["Omdannelsesområder"])
    assert [r[1] for r in got[1:]] == ["Mjølnerparken"]
    assert got[1][10:] == ("Nej", 10, "A01")


def test_departures_sheet(wb2021):
    got = rows(wb2021[SHEET_LEFT])
    assert got[0] == ("Liste", "Kommune", "Boligområde", "Beboere", *HEAD[3:9], "Opfyldte kriterier", "Årsag", "Område-id")
    assert got[1:] == [
        ("Udsatte boligområder", "København", "Lille Område", 800, None, None, None, None, None, None, None,
         "Under 1.000 beboere", "A05"),
        ("Parallelsamfund", "Odense", "Vollsmose", 7000, 0.41, 0.02772, 2.1, 0.59, 0.52, 0.45,
         "arbejdsmarked, indkomst", "Opfylder ikke længere kriterierne", "A03"),
    ]


def test_parcels_sheet_in_natural_order(wb2021):
    got = rows(wb2021["Matrikler"])
    assert got[0] == ("Kommune", "Boligområde", "Lister", "Ejerlavskode", "Matrikelnr.", "Område-id")
    assert [(r[1], r[3], r[4]) for r in got[1:]] == [
        ("Ny Vest", 5002, "1"), ("Ny Vest", 5002, "12"), ("Skovparken", 5001, "3c"),
        ("Gellerupparken", 3005, "15b"),
        ("Mjølnerparken", 2001, "1a"), ("Mjølnerparken", 2001, "2"), ("Mjølnerparken", 2001, "10"),
        ("Vollsmose", 4001, "7"),
    ]
    # A05 (not listed) and A06 (not listed) have no parcels in the sheet
    assert got[5][2] == "Udsatte boligområder, Parallelsamfund, Omdannelsesområder"


def test_about_sheet_counts(wb2021):
    got = rows(wb2021["Forklaring"])
    assert got[4:8] == [("Udsatte boligområder", 4), ("Parallelsamfund", 3), ("Omdannelsesområder", 1),
                        ("Forebyggelsesområder", 1)]


def test_rule_set_2014_with_previous_year(tmp_path):
    path = tmp_path / "lists.xlsx"
    write_workbook(path, areas(2015), areas(2014), parcels(), 2015, "2014")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Ghettoområder", "Kombineret udlejning", SHEET_LEFT, "Matrikler", "Forklaring"]
    ghetto = rows(wb["Ghettoområder"])
    assert ghetto[0][4:6] == ("Dømte (andel)", "Andel kun grundskole")  # 2014: the share only
    assert ghetto[1:] == [("København", "Tingbjerg", 6000, 0.45, 0.03, 0.55, 0.5, 0.6, ALL5, "Nej", 6, "B01")]
    assert wb["Ghettoområder"]["E2"].number_format == "0.0%"
    combined = rows(wb["Kombineret udlejning"])
    assert [(r[1], r[9]) for r in combined[1:]] == [("Agervang", "Nej"), ("Tingbjerg", "Nej")]
    left = rows(wb[SHEET_LEFT])
    # B02 Askerød: conviction share exactly 2.7 % is not above the threshold: 2 of 5, off the list
    assert left[1:] == [("Ghettoområder", "Greve", "Askerød", 1500, 0.35, 0.027, 0.52, 0.6, 0.55,
                         "grundskole, ikke-vestlige", "Opfylder ikke længere kriterierne", "B02")]
    # no parcels for the B areas in the fixture: the sheet says how many listed areas lack them
    assert rows(wb["Matrikler"])[1] == (
        "2 listede områder har ingen matrikler i den anvendte områdeafgrænsning.", None, None, None, None, None)


def test_rule_set_2018_without_previous_year(tmp_path):
    path = tmp_path / "lists.xlsx"
    write_workbook(path, areas(2020), None, parcels(), 2020, "2018")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["Udsatte boligområder", "Ghettoområder", "Hårde ghettoområder", "Kombineret udlejning"]
    hard = rows(wb["Hårde ghettoområder"])
    assert hard[0][4:6] == ("Dømte (andel)", "Dømte (gange landsgennemsnit)")
    assert [(r[1], r[4], r[5], r[10], r[11]) for r in hard[1:]] == [("Mjølnerparken", 0.04356, 3.3, None, 9)]  # new: unknown
    assert wb["Hårde ghettoområder"]["E2"].number_format == "0.0%"
    assert [r[1] for r in rows(wb["Kombineret udlejning"])[1:]] == [
        "Gellerupparken", "Lille Område", "Mjølnerparken", "Vollsmose"]
    assert rows(wb[SHEET_LEFT])[1][0] == NO_PREV


def test_custom_rule_set_name_uses_lists_in_force(tmp_path):
    path = tmp_path / "lists.xlsx"
    write_workbook(path, areas(2021), areas(2020), parcels(), 2021, "my_rules.toml")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["Udsatte boligområder", "Parallelsamfund", "Omdannelsesområder", "Forebyggelsesområder"]
    assert rows(wb["Forklaring"])[1][0] == "Regelsæt my_rules.toml (lister som regelsæt 2021)"


def test_deterministic_bytes_and_fixed_creation_date(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_workbook(a, areas(2021), areas(2020), parcels(), 2021, "2021")
    write_workbook(b, areas(2021), areas(2020), parcels(), 2021, "2021")
    assert a.read_bytes() == b.read_bytes()
    core = zipfile.ZipFile(a).read("docProps/core.xml").decode()
    assert "2021-12-01T00:00:00Z" in core
    assert not list(tmp_path.glob(".*.tmp"))


def test_sheet_name_rules():
    assert sheet_name("Udgået siden sidste år") == "Udgået siden sidste år"
    assert sheet_name("a/b:c" + "x" * 40) == "a-b-c" + "x" * 26
    assert len(sheet_name("x" * 40)) == 31


def test_read_areas_csv_types():
    df = read_areas_csv(F / "out_a" / "2021" / "areas.csv")
    assert df.height == 7
    assert df.schema["eligible"] == pl.Boolean and df.schema["residents"] == pl.Int64
    row = df.filter(pl.col("area_id") == "A05").to_dicts()[0]
    assert row["eligible"] is False and row["labour_share"] is None and row["crit_labour"] is None
    assert row["years_on_parallel_list"] == 0
    assert df.filter(pl.col("area_id") == "A04")["conviction_ratio"].item() == 2.0


def test_read_areas_csv_errors(tmp_path):
    text = (F / "out_a" / "2021" / "areas.csv").read_text(encoding="utf-8")
    with pytest.raises(InputError, match="file not found"):
        read_areas_csv(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace(",true,0.43,", ",yes,0.43,"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_areas_csv(bad)
    assert str(err.value) == f"file {bad}, column eligible: 1 value(s) are not true/false"
    bad.write_text(text.replace("area_mean_income,", "mean_income,"), encoding="utf-8")
    with pytest.raises(InputError, match="column area_mean_income: required column is missing"):
        read_areas_csv(bad)
    bad.write_text(text.replace("A01,", "A02,", 1), encoding="utf-8")
    with pytest.raises(InputError, match="2 rows share their area_id with another row"):
        read_areas_csv(bad)


def test_custom_rule_set_shows_its_own_thresholds(tmp_path):
    """A --rules file's thresholds (national.json's parameters) are the ones shown and used for the
    prevention list's display of met criteria, not the shipped rule set's."""
    import copy

    from pipeline.publish.common import criteria_for
    from pipeline.rules import load_ruleset

    params = copy.deepcopy(load_ruleset("2021").parameters())
    labour = next(c for c in params["list_rules"]["prevention"]["count_of"] if c["metric"] == "labour_share")
    labour["value"] = 0.35  # A04's 0.32 no longer meets it
    params["criteria"]["education"]["value"] = 0.5
    path = tmp_path / "lists.xlsx"
    write_workbook(path, areas(2021), areas(2020), parcels(), 2021, "my_rules.toml", parameters=params)
    got = rows(openpyxl.load_workbook(path)["Forebyggelsesområder"])
    assert got[1][9] == "dømte, indkomst, ikke-vestlige"
    shown = {c.key: (c.op, c.value) for c in criteria_for("my_rules.toml", 2021, "vulnerable", params)}
    assert shown["education"] == (">", 0.5) and shown["labour"] == (">", 0.4)
    assert {c.key: c.value for c in criteria_for("my_rules.toml", 2021, "prevention", params)}["labour"] == 0.35
    # without parameters: the shipped rule set in force
    assert {c.key: c.value for c in criteria_for("my_rules.toml", 2021, "prevention")}["labour"] == 0.3


def test_the_departure_reason_names_the_rule_sets_minimum():
    from pipeline.publish.common import departure_reason

    small = {"eligible": False, "parallel": False}
    assert departure_reason("vulnerable", small) == "Under 1.000 beboere"
    assert departure_reason("vulnerable", small, 2500) == "Under 2.500 beboere"
    assert departure_reason("parallel", None, 500) == "Ikke med i årets områdeafgrænsning"


def test_an_area_that_left_prevention_by_becoming_vulnerable_is_not_said_to_fail_the_criteria():
    """Granhegnet (A0003, data_samples 2024) still meets its prevention criteria but is vulnerable
    now, so it is not a prevention area (METHOD.md § 4): that is the reason published."""
    from pipeline.publish.common import departure_reason

    row = {"eligible": True, "vulnerable": True, "parallel": False}
    assert departure_reason("prevention", row) == "Nu på listen over udsatte boligområder"
    assert departure_reason("prevention", {**row, "vulnerable": False}) == "Opfylder ikke længere kriterierne"
    assert departure_reason("parallel", row) == "Opfylder ikke længere kriterierne"  # left by C5 alone
