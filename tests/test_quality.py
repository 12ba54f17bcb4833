"""Each suite of expectations/ passes on a clean hand-made warehouse and fails on data broken on
purpose for it, with the exact observed counts and shares; severity decides `has_errors`."""

from __future__ import annotations

import json

import pandas as pd
import polars as pl
import pytest

from tests import test_quality_support as S
from pipeline.quality import validate_inputs, validate_outputs, write_quality_report
from pipeline.quality.suites import ALL_SUITES, REGISTER_SUITES, load_suite

Y = S.Y


@pytest.fixture
def con(tmp_path):
    c = S.build(tmp_path / "w.duckdb")
    yield c
    c.close()


def failed(result):
    """{(suite, check, year): (severity, observed aggregate or failing areas)} of the failures."""
    out = {}
    for o in result.outcomes:
        if not o.success:
            obs = o.observed.get("observed_value", o.observed.get("unexpected_count"))
            out[(o.suite, o.check, o.year)] = (o.severity, obs, o.areas)
    return out


def n_expectations(name):
    return len(load_suite(name)["expectations"])


def test_suites_are_valid_and_carry_severity():
    for name in ALL_SUITES:
        suite = load_suite(name)
        assert suite["name"] == name
        assert all(e["meta"]["severity"] in ("error", "warning") for e in suite["expectations"])


def test_clean_warehouse_passes_every_input_suite(con):
    r = validate_inputs(con, Y)
    assert failed(r) == {}
    assert not r.has_errors and not r.has_warnings and r.error_line() == ""
    # bef, adresser, akm, kraf twice; udda, ind once; then the five list-year suites
    expected = sum(n_expectations(t) * n for t, n in
                   [("bef", 2), ("adresser", 2), ("akm", 2), ("kraf", 2), ("udda", 1), ("ind", 1)])
    expected += sum(n_expectations(s) for s in
                    ("coverage", "boundary_areas", "boundary_parcels", "boundary_residents", "history"))
    assert len(r.outcomes) == expected
    years = {(o.suite, o.year) for o in r.outcomes if o.suite in REGISTER_SUITES}
    assert years == {("bef", 2024), ("bef", 2023), ("adresser", 2024), ("adresser", 2023), ("akm", 2023),
                     ("akm", 2022), ("kraf", 2023), ("kraf", 2022), ("udda", 2023), ("ind", 2023)}
    rows = {(o.suite, o.year): o.observed["observed_value"] for o in r.outcomes if o.check == "has_rows"}
    assert rows[("bef", 2024)] == 10 and rows[("kraf", 2022)] == 2 and rows[("adresser", 2023)] == 5


def test_bef_suite(con):
    con.execute("update stg_bef set alder = 130 where year = 2024 and pnr = 'P0000003'")
    con.execute("update stg_bef set opr_land = 'XXX' where year = 2023 and pnr in ('P0000002', 'P0000005')")
    r = validate_inputs(con, Y)
    assert failed(r) == {
        ("bef", "alder_in_0_125", 2024): ("error", 1, ()),
        ("bef", "known_opr_land", 2023): ("error", 2, ()),
    }
    assert r.has_errors
    assert r.error_line() == (
        "column alder, year 2024: data-quality error in table bef: alder is between 0 and 125: observed 1"
        " [check bef.alder_in_0_125] (+1 more error, see quality/summary.json)"
    )


def test_bef_duplicate_and_nulls(con):
    con.execute("insert into stg_bef select * from stg_bef where year = 2023 and pnr = 'P0000004'")
    con.execute("update stg_bef set koen = null, kom = 999 where year = 2023 and pnr = 'P0000001'")
    f = failed(validate_inputs(con, Y))
    assert f[("bef", "unique_pnr", 2023)] == ("error", 1, ())
    assert f[("bef", "not_null_koen", 2023)] == ("error", 1, ())
    assert f[("bef", "known_kom", 2023)] == ("error", 1, ())
    assert {k for k in f if k[0] == "bef"} == {("bef", "unique_pnr", 2023), ("bef", "not_null_koen", 2023),
                                              ("bef", "known_kom", 2023)}


def test_akm_suite(con):
    con.execute("update stg_akm set socio13 = 999 where year = 2022 and pnr = 'P0000006'")
    r = validate_inputs(con, Y)
    assert failed(r) == {("akm", "known_socio13", 2022): ("error", 1, ())}


def test_udda_suite_warning_then_error(con):
    con.execute("update stg_udda set hfaudd = null where pnr in ('P0000001', 'P0000002')")
    r = validate_inputs(con, Y)
    assert failed(r) == {("udda", "hfaudd_mostly_known", 2023): ("warning", 0.2, ())}
    assert not r.has_errors and r.has_warnings and r.error_line() == ""
    con.execute("update stg_udda set hfaudd_kilde = 9 where pnr = 'P0000003'")
    con.execute("insert into stg_udda select * from stg_udda where pnr = 'P0000003'")
    f = failed(validate_inputs(con, Y))
    assert f[("udda", "unique_pnr", 2023)] == ("error", 1, ())
    assert f[("udda", "known_hfaudd_kilde", 2023)] == ("error", 2, ())  # the row and its copy
    assert f[("udda", "hfaudd_mostly_known", 2023)] == ("warning", 2 / 11, ())


def test_ind_suite(con):
    con.execute("update stg_ind set perindkialt_13 = null where pnr = 'P0000002'")
    r = validate_inputs(con, Y)
    assert failed(r) == {("ind", "income_mostly_known", 2023): ("warning", 0.1, ())}
    con.execute("update stg_ind set skattepligtig = null where pnr = 'P0000009'")
    r = validate_inputs(con, Y)
    assert failed(r)[("ind", "not_null_skattepligtig", 2023)] == ("error", 1, ())
    assert r.errors[0].column == "skattepligtig" and r.errors[0].year == 2023


def test_kraf_suite(con):
    con.execute("update stg_kraf set afg_dato = date '2022-12-31' where year = 2023 and pnr = 'P0000004'")
    con.execute("update stg_kraf set afg_ger7 = '8123456' where year = 2022 and pnr = 'P0000005'")
    con.execute("insert into stg_kraf values (2022, 'P0000006', date '2022-03-03', '12345', 1)")
    f = failed(validate_inputs(con, Y))
    assert f == {
        ("kraf", "afg_dato_in_year", 2023): ("error", 1, ()),
        ("kraf", "afg_ger7_law_known", 2022): ("error", 1, ()),
        ("kraf", "afg_ger7_seven_digits", 2022): ("error", 1, ()),  # '12345' starts with 1: law known
    }


def test_adresser_suite(con):
    con.execute("update stg_adresser set kom = 999 where year = 2023 and adresse_id = 'ADR-0005'")
    con.execute("insert into stg_adresser values (2024, 'ADR-0004', 147, 200, '5')")
    f = failed(validate_inputs(con, Y))
    assert f[("adresser", "known_kom", 2023)] == ("error", 1, ())
    assert f[("adresser", "unique_adresse_id", 2024)] == ("error", 1, ())


def test_missing_register_year_is_an_error(con):
    con.execute("delete from stg_ind")
    f = failed(validate_inputs(con, Y))
    assert f[("ind", "has_rows", 2023)] == ("error", 0, ())
    assert f[("coverage", "ind_error", 2023)] == ("error", 0.0, ())
    assert f[("coverage", "ind", 2023)] == ("warning", 0.0, ())


def test_coverage_suite(con):
    # 18-64 on 1 January 2024: P2..P9 = 8 persons; drop the akm 2023 records of two of them
    con.execute("delete from stg_akm where year = 2023 and pnr in ('P0000002', 'P0000003')")
    # 30-59: P4..P8 = 5 persons; one without udda
    con.execute("delete from stg_udda where pnr = 'P0000004'")
    # P10 lives in no area: no address in 2024, an unknown one in 2023
    con.execute("update stg_bef set adresse_id = null where year = 2024 and pnr = 'P0000010'")
    con.execute("update stg_bef set adresse_id = 'ADR-9999' where year = 2023 and pnr = 'P0000010'")
    r = validate_inputs(con, Y)
    assert failed(r) == {
        ("coverage", "akm_last", 2023): ("warning", 0.75, ()),
        ("coverage", "udda", 2023): ("warning", 0.8, ()),
        ("coverage", "null_address", 2024): ("warning", 0.1, ()),
        ("coverage", "address_found_prev", 2023): ("warning", 0.9, ()),
    }
    assert not r.has_errors
    con.execute("delete from stg_akm where year = 2023 and pnr in ('P0000004', 'P0000005', 'P0000006')")
    f = failed(validate_inputs(con, Y))
    assert f[("coverage", "akm_last_error", 2023)] == ("error", 0.375, ())
    assert f[("coverage", "akm_last", 2023)] == ("warning", 0.375, ())


def test_coverage_from_the_national_counts_equals_the_joins(con):
    """The three list-year coverage shares are counted on the calculation's national join
    (int_national_counts) when it was computed from exactly the files ingested now, else by
    joining the registers: the same numbers either way."""
    from pipeline import calculate, ingest
    from pipeline.quality import profiles
    from pipeline.rules import ruleset_for

    con.execute("delete from stg_akm where year = 2023 and pnr in ('P0000002', 'P0000003')")
    con.execute("delete from stg_udda where pnr = 'P0000004'")
    con.execute("update stg_ind set skattepligtig = false where pnr = 'P0000005'")  # has a record all the same
    ingest.load_reference(con, None)
    for table, year in [("bef", Y), ("bef", Y - 1), ("akm", Y - 1), ("akm", Y - 2), ("udda", Y - 1), ("ind", Y - 1),
                        ("adresser", Y), ("adresser", Y - 1)]:
        con.execute("insert into meta_ingest values (?, ?, 'test', ?, 0, null)", [table, year, f"{table}{year}"])
    joined = profiles._coverage_frame(con, Y)
    assert profiles._national_counts_shares(con, Y) is None  # not computed yet
    calculate.build_residents(con, Y)
    calculate.build_list_counts(con, Y, ruleset_for(Y))
    # 18-64: P2..P9, two without akm; 30-59: P4..P8, one without udda; 15-64: P1..P9, all with ind
    assert profiles._national_counts_shares(con, Y) == {
        "akm_coverage_last": 0.75, "udda_coverage": 0.8, "ind_coverage": 1.0}
    assert profiles._coverage_frame(con, Y).equals(joined)
    assert joined.loc[0, "akm_coverage_last"] == 0.75 and joined.loc[0, "udda_coverage"] == 0.8
    # another udda file now: the national join is not that of the files ingested, so it is not used
    con.execute("update meta_ingest set sha256 = 'changed' where table_name = 'udda'")
    assert profiles._national_counts_shares(con, Y) is None


def test_boundary_residents_suite(con):
    # a typo in a corrected boundary: parcel 2b written 2B
    con.execute("update stg_parcels set matrikelnr = '2B' where matrikelnr = '2b'")
    # a new area whose only address has no residents
    con.execute("insert into stg_adresser values (2024, 'ADR-0006', 147, 400, '1'), (2023, 'ADR-0006', 147, 400, '1')")
    con.execute("insert into stg_areas values ('A3', 'Tomgården', 147)")
    con.execute("insert into stg_parcels values ('A3', 400, '1')")
    # A2 had 2 residents on 1 January 2023 and has 3 in 2024: +50 %
    con.execute("update stg_bef set adresse_id = 'ADR-0005' where year = 2023 and pnr = 'P0000007'")
    r = validate_inputs(con, Y)
    assert failed(r) == {
        ("boundary_residents", "parcels_match_addresses", 2024): ("warning", 1, ("A1",)),
        ("boundary_residents", "has_residents", 2024): ("warning", 1, ("A3",)),
        ("boundary_residents", "residents_stable", 2024): ("warning", 1, ("A2",)),
    }
    assert not r.has_errors


def test_boundary_structure_suites(con):
    con.execute("insert into stg_parcels values ('A2', 100, '1a'), ('A9', 500, '3')")
    con.execute("update stg_areas set kom = 999 where area_id = 'A2'")
    f = failed(validate_inputs(con, Y))
    assert f == {
        ("boundary_parcels", "parcel_unique", None): ("error", 2, ()),
        ("boundary_parcels", "area_id_known", None): ("error", 1, ("A9",)),
        ("boundary_areas", "kom_known", None): ("error", 1, ("A2",)),
    }


def test_history_suite(con):
    con.execute("insert into stg_history values ('A1', 2022, 'ghetto'), ('A7', 2019, 'parallel'), "
                "('A2', 2021, 'transformation'), ('A1', 2020, 'parallel')")
    f = failed(validate_inputs(con, Y))
    assert f == {
        ("history", "list_known", None): ("error", 1, ("A1",)),
        ("history", "area_in_boundaries", None): ("warning", 1, ("A7",)),
        ("history", "transformation_within_parallel", None): ("warning", 1, ("A2",)),
        ("history", "row_unique", None): ("warning", 2, ()),
    }


# ---- outputs ---------------------------------------------------------------------------------


def test_clean_outputs_pass_pandas_and_polars():
    areas = S.areas_table()
    r = validate_outputs(areas, S.areas_table(Y - 1))
    assert failed(r) == {}
    assert {o.year for o in r.outcomes} == {2024}
    r2 = validate_outputs(pl.from_pandas(areas), None)
    assert failed(r2) == {} and {o.suite for o in r2.outcomes} == {"areas_output"}
    # mart_areas carries list_year first: same result
    mart = areas[["list_year", *[c for c in areas.columns if c != "list_year"]]]
    assert failed(validate_outputs(mart, None)) == {}


@pytest.mark.parametrize(
    "change, expected",
    [
        ({("B1", "labour_share"): 1.2}, {"labour_share_in_0_1": ("B1",)}),
        ({("B2", "conviction_share_last"): -0.01}, {"conviction_share_last_in_0_1": ("B2",)}),
        ({("B2", "residents"): 999}, {"eligible_iff_1000": ("B2",)}),
        ({("B3", "residents"): 1000}, {"eligible_iff_1000": ("B3",)}),
        ({("B1", "vulnerable"): False}, {"parallel_within_vulnerable": ("B1",)}),
        ({("B2", "transformation"): True}, {"transformation_within_parallel": ("B2",)}),
        ({("B1", "prevention"): True}, {"prevention_not_vulnerable": ("B1",)}),
        ({("B1", "n_criteria"): 3}, {"n_criteria_matches_flags": ("B1",)}),
        ({("B3", "n_criteria"): 0}, {"n_criteria_matches_flags": ("B3",)}),
        ({("B3", "combined_letting"): True}, {"ineligible_not_listed": ("B3",)}),
    ],
)
def test_output_suite_catches(change, expected):
    areas = S.areas_table()
    for (area, col), v in change.items():
        areas.loc[areas.area_id == area, col] = v
    r = validate_outputs(areas, None)
    got = {o.check: o.areas for o in r.outcomes if not o.success}
    assert got == expected
    assert r.has_errors and all(o.severity == "error" for o in r.errors)
    assert r.errors[0].table == "areas.csv" and r.errors[0].year == 2024


def test_an_area_whose_region_has_no_income_population_is_a_warning_not_an_error():
    """OUTPUTS.md: a value that cannot be computed is empty (ASSUMPTIONS B13); the lists are
    published, and the report says which areas lack their region's mean income."""
    areas = S.areas_table()
    areas.loc[areas.area_id == "B1", ["region_mean_income", "income_ratio"]] = float("nan")
    areas.loc[areas.area_id == "B1", ["crit_income", "n_criteria"]] = [False, 3]  # criterion not met
    r = validate_outputs(areas, None)
    assert not r.has_errors
    assert failed(r) == {("areas_output", "region_income_known", 2024): ("warning", 1, ("B1",))}


def test_output_columns_and_2014_rules():
    areas = S.areas_table().drop(columns=["development_plan"])
    r = validate_outputs(areas, None)
    assert [o.check for o in r.errors] == ["columns"]
    areas = S.areas_table()
    areas["ruleset"] = "2014"
    areas.loc[areas.area_id == "B1", "vulnerable"] = False  # no vulnerable list in 2014
    assert [o.check for o in validate_outputs(areas, None).errors] == ["n_criteria_matches_flags"]
    areas.loc[areas.area_id == "B1", "n_criteria"] = 5  # 2014 counts all five criteria
    assert failed(validate_outputs(areas, None)) == {}


def test_output_suite_follows_the_rule_set_in_use():
    """A --rules file may change any parameter (METHOD.md § 8): the consistency checks of the
    output follow the rule set the table was classified with, not the built-in ones."""
    from dataclasses import replace

    from pipeline.rules import load_ruleset

    r21 = load_ruleset("2021")
    areas = S.areas_table()
    # min_residents 500: B3 (999 residents) must be eligible, and is once it says so
    low = replace(r21, name="low", min_residents=500)
    assert failed(validate_outputs(areas, None, low)) == {("areas_output", "eligible_iff_1000", 2024): ("error", 1, ("B3",))}
    areas.loc[areas.area_id == "B3", ["eligible", "n_criteria", "region_mean_income"]] = [True, 0, 330000.0]
    for c in ("crit_labour", "crit_conviction", "crit_education", "crit_income", "crit_nonwestern"):
        areas.loc[areas.area_id == "B3", c] = False
    assert failed(validate_outputs(areas, None, low)) == {}
    assert [o.check for o in validate_outputs(areas, None, r21).errors] == ["eligible_iff_1000"]
    # prevention without `excludes = ["vulnerable"]` (the law text's reading, ASSUMPTIONS.md)
    areas = S.areas_table()
    areas.loc[areas.area_id == "B1", "prevention"] = True
    rules = dict(r21.list_rules)
    rules["prevention"] = replace(rules["prevention"], excludes=())
    assert failed(validate_outputs(areas, None, replace(r21, list_rules=rules))) == {}
    assert [o.check for o in validate_outputs(areas, None, r21).errors] == ["prevention_not_vulnerable"]
    # a copy of rule set 2014 under another name: no vulnerable list, all five criteria counted
    r14 = replace(load_ruleset("2014"), name="2014b")
    areas = S.areas_table()
    areas["ruleset"] = "2014b"
    areas.loc[areas.area_id == "B1", ["vulnerable", "n_criteria"]] = [False, 5]
    assert failed(validate_outputs(areas, None, r14)) == {}
    # without the rule set, a name that is not built in is checked by the rules of its list year
    assert {o.check for o in validate_outputs(areas, None).errors} == {"parallel_within_vulnerable",
                                                                        "n_criteria_matches_flags"}


def test_list_counts_warning():
    prev = pd.concat([S.areas_table(Y - 1)] * 1, ignore_index=True)
    many = pd.DataFrame([S.areas_table(Y - 1).iloc[0]] * 40)
    many["area_id"] = [f"V{i:02d}" for i in range(40)]
    r = validate_outputs(S.areas_table(), many)
    # vulnerable and parallel: 1 now, 40 last year: |1 - 40| / 40 = 0.975 > 0.5
    assert failed(r) == {
        ("list_counts", "vulnerable_count_plausible", 2024): ("warning", 0.975, ()),
        ("list_counts", "parallel_count_plausible", 2024): ("warning", 0.975, ()),
    }
    assert not r.has_errors
    # 20 -> 30 is a move of 10 areas = 0.5 of max(20, 20): allowed
    assert failed(validate_outputs(S.areas_table(), prev)) == {}


def test_report_files(con, tmp_path):
    con.execute("update stg_bef set alder = 130 where year = 2024 and pnr = 'P0000003'")
    inputs = validate_inputs(con, Y)
    outputs = validate_outputs(S.areas_table(), None)
    out = tmp_path / "out" / "2024" / "quality"
    write_quality_report([inputs, outputs], out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["has_errors"] is True
    assert summary["summary"]["failed_errors"] == 1 and summary["summary"]["failed_warnings"] == 0
    assert summary["summary"]["checks"] == len(inputs.outcomes) + len(outputs.outcomes)
    first = [c for c in summary["checks"] if not c["success"]][0]
    assert first == {
        "suite": "bef", "check": "alder_in_0_125", "expectation_type": "expect_column_max_to_be_between",
        "severity": "error", "success": False, "table": "bef", "column": "alder", "year": 2024,
        "description": "alder is between 0 and 125", "observed": {"observed_value": 1}, "areas": [],
    }
    assert summary["error_line"].startswith("column alder, year 2024: data-quality error in table bef")
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Stopped: 1 error" in html and "alder_in_0_125" in html
    for token in ("http://", "https://", "<script", "<link", "src=", "url("):
        assert token not in html
    before = (out / "index.html").read_bytes(), (out / "summary.json").read_bytes()
    write_quality_report([inputs, outputs], out)
    assert ((out / "index.html").read_bytes(), (out / "summary.json").read_bytes()) == before


SAMPLES = __import__("pathlib").Path(__file__).resolve().parent.parent / "data_samples"


def _load_samples(con, data):
    """Load the shipped sample extracts into stg_ tables with the contract's types (our own
    minimal loader, so this test does not depend on the ingestion code)."""
    from pipeline.contract import DUCKDB_TYPES, REGISTERS, available_years

    for table, spec in REGISTERS.items():
        cols = ", ".join(f"cast({c.name} as {DUCKDB_TYPES[c.type]}) as {c.name}" for c in spec.columns)
        con.execute(f"create table stg_{table} as select 0::integer as year, {cols} from "
                    f"(select {', '.join(c.name for c in spec.columns)} from read_parquet("
                    f"'{data / 'registers' / (table + '_*.parquet')}')) where false")
        for year in available_years(data, table):
            f = data / "registers" / f"{table}_{year}.parquet"
            con.execute(f"insert into stg_{table} select {year}, {cols} from read_parquet('{f}')")
    con.execute(f"create table stg_areas as select area_id::varchar as area_id, area_name::varchar as area_name, "
                f"kom::integer as kom from read_csv('{data / 'boundaries' / 'areas.csv'}', header=true, all_varchar=true)")
    con.execute(f"create table stg_parcels as select area_id::varchar as area_id, ejerlavskode::integer as ejerlavskode, "
                f"matrikelnr::varchar as matrikelnr from read_csv('{data / 'boundaries' / 'parcels.csv'}', header=true, all_varchar=true)")
    hist = data / "history" / "lists.csv"
    if hist.is_file():
        con.execute(f"create table stg_history as select area_id::varchar as area_id, list_year::integer as list_year, "
                    f"list::varchar as list from read_csv('{hist}', header=true, all_varchar=true)")


@pytest.mark.skipif(not list((SAMPLES / "registers").glob("bef_*.parquet")) if (SAMPLES / "registers").is_dir() else True,
                    reason="data_samples/ has no Parquet register extracts yet")
def test_data_samples_pass_without_errors(tmp_path):
    import duckdb

    from pipeline.contract import available_years, needed_registers

    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    _load_samples(con, SAMPLES)
    have = {(t, y) for t in ("bef", "akm", "udda", "ind", "kraf", "adresser") for y in available_years(SAMPLES, t)}
    list_years = [y for y in range(2000, 2100) if set(needed_registers(y)) <= have]
    assert list_years, "the samples cover no list year"
    r = validate_inputs(con, max(list_years))
    assert not r.has_errors, r.error_line()
    assert len(r.outcomes) > 100
