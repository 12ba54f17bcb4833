"""Severity decides whether a run stops: an error-severity check blocks everything downstream
(nothing is published); a warning is reported and the run goes on. Also the privacy proof:
no identifier of the input appears in any file a run writes or in the check metadata."""



import json
import os
from pathlib import Path

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from assets.partitions import years
from assets.quality import areas_quality, register_checks
from assets.resources import Settings
from tests import test_quality_support as S

PUBLISHED: list[str] = []


@dg.asset(name="bef", partitions_def=years)
def bef_stub() -> None:
    """Stands for the ingestion asset: the test warehouse is already loaded."""


@dg.asset(name="areas", partitions_def=years, deps=["bef"])
def areas_stub() -> None:
    """Stands for the calculation asset: mart_areas is already in the test warehouse."""


@dg.asset(partitions_def=years, deps=["areas"])
def published(context: dg.AssetExecutionContext) -> None:
    PUBLISHED.append(context.partition_key)


def _warehouse(tmp_path: Path, *statements: str, areas_change: dict | None = None) -> Path:
    path = tmp_path / "out" / "warehouse.duckdb"
    path.parent.mkdir(parents=True)
    con = S.build(path)
    for sql in statements:
        con.execute(sql)
    areas = S.areas_table()
    for (area, col), v in (areas_change or {}).items():
        areas.loc[areas.area_id == area, col] = v
    mart = areas[["list_year", *[c for c in areas.columns if c != "list_year"]]]
    con.register("mart_frame", mart)
    con.execute("create table mart_areas as select * from mart_frame")
    con.close()
    return path


def _run(tmp_path: Path, db: Path):
    PUBLISHED.clear()
    bef_check = next(c for c in register_checks if "bef" in {k.asset_key.path[0] for k in c.check_keys})
    settings = Settings(data_dir=str(tmp_path / "data"), out_dir=str(tmp_path / "out"))
    result = dg.materialize(
        [bef_stub, areas_stub, published, bef_check, areas_quality],
        partition_key="2024",
        resources={"settings": settings, "warehouse": DuckDBResource(database=str(db))},
        raise_on_error=False,
    )
    evals = {
        (e.asset_key.path[0], e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    return result, evals


def _stored(tmp_path: Path):
    """The list-year validation kept in the warehouse by the `areas` check."""
    import duckdb

    from pipeline.quality.store import load_result

    dbs = sorted(tmp_path.rglob("*.duckdb"))
    with duckdb.connect(str(dbs[0])) as con:
        return load_result(con, "list_year", 2024)


def _all_files_text(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file() and p.suffix != ".duckdb"
    )


def test_clean_run_publishes_and_writes_report(tmp_path):
    result, evals = _run(tmp_path, _warehouse(tmp_path))
    assert result.success and PUBLISHED == ["2024"]
    assert all(e.passed for e in evals.values())
    # one check per suite; its metadata has a line per expectation
    assert ("bef", "gx_bef") in evals and ("areas", "gx_coverage") in evals
    assert set(evals) == {("bef", "gx_bef")} | {("areas", f"gx_{s}") for s in
                                                  ("coverage", "boundary_areas", "boundary_parcels", "boundary_residents",
                                                   "history", "areas_output", "list_counts")}
    assert evals[("areas", "gx_coverage")].metadata["akm_last"].value == "pass [warning] 2023: observed 1"
    assert evals[("bef", "gx_bef")].metadata["failed_errors"].value == 0
    stored = _stored(tmp_path)  # kept for the report that the publication asset writes
    assert not stored.has_errors and not stored.has_warnings
    assert not (tmp_path / "out" / "rejected").exists()


def test_error_stops_the_run(tmp_path):
    db = _warehouse(tmp_path, "update stg_bef set alder = 130 where year = 2024 and pnr = 'P0000003'")
    result, evals = _run(tmp_path, db)
    assert not result.success
    assert PUBLISHED == []
    e = evals[("bef", "gx_bef")]
    assert not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    assert e.metadata["alder_in_0_125"].value == "FAIL [error] 2024: observed 1"
    assert e.metadata["failed_errors"].value == 1 and "alder_in_0_125" in e.description
    # the areas step never ran, so neither did its checks
    assert ("areas", "gx_coverage") not in evals


def test_output_error_stops_publication_but_reports(tmp_path):
    db = _warehouse(tmp_path, areas_change={("B2", "residents"): 999})
    result, evals = _run(tmp_path, db)
    assert not result.success and PUBLISHED == []
    e = evals[("areas", "gx_areas_output")]
    assert not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    assert e.metadata["eligible_iff_1000"].value.startswith("FAIL [error] 2024: ")
    assert e.metadata["eligible_iff_1000_areas_2024"].value == "B2"
    assert not (tmp_path / "out" / "2024").exists()  # nothing under OUT/Y: the last good outputs stay
    summary = json.loads((tmp_path / "out" / "rejected" / "2024" / "quality" / "summary.json").read_text())
    assert summary["has_errors"] is True
    assert summary["error_line"].startswith("column eligible, year 2024: data-quality error in table areas.csv")


def test_warning_is_reported_and_the_run_goes_on(tmp_path):
    db = _warehouse(tmp_path, "update stg_bef set adresse_id = null where year = 2024 and pnr = 'P0000010'")
    result, evals = _run(tmp_path, db)
    assert result.success and PUBLISHED == ["2024"]
    e = evals[("areas", "gx_coverage")]
    assert not e.passed and e.severity == dg.AssetCheckSeverity.WARN  # a warning: the run goes on
    assert e.metadata["null_address"].value == "FAIL [warning] 2024: observed 0.1"
    assert (e.metadata["failed_errors"].value, e.metadata["failed_warnings"].value) == (0, 1)
    stored = _stored(tmp_path)
    assert not stored.has_errors and [o.check for o in stored.warnings] == ["null_address"]


def test_no_identifier_in_any_file_or_check_result(tmp_path):
    """Break the data in every person-level way at once, run, and search every file written and
    every check result for each pnr, adresse_id and income of the input."""
    db = _warehouse(
        tmp_path,
        "insert into stg_bef select * from stg_bef where year = 2024",  # every pnr duplicated
        "update stg_bef set alder = 130, opr_land = 'XXX' where year = 2024 and pnr = 'P0000003'",
        "update stg_bef set adresse_id = 'ADR-9999' where year = 2024 and pnr = 'P0000010'",
        "insert into stg_adresser select * from stg_adresser where year = 2024",  # every adresse_id duplicated
        "insert into stg_ind select * from stg_ind",
        "update stg_ind set skattepligtig = null where pnr = 'P0000002'",
        "insert into stg_akm select * from stg_akm",
        "update stg_parcels set matrikelnr = '2B' where matrikelnr = '2b'",
        areas_change={("B1", "labour_share"): 1.5},
    )
    result, evals = _run(tmp_path, db)
    assert not result.success
    # the bef check blocked areas; run the list-year and output validation and the report directly too
    import duckdb

    from pipeline.quality import validate_inputs, validate_outputs, write_quality_report

    con = duckdb.connect(str(db))
    inputs = validate_inputs(con, 2024)
    con.close()
    assert {"unique_pnr", "unique_adresse_id", "known_opr_land", "alder_in_0_125"} <= {o.check for o in inputs.errors}
    write_quality_report([inputs, validate_outputs(S.areas_table(), None)], tmp_path / "out" / "2024" / "quality")
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and p.suffix != ".duckdb"]
    assert {p.name for p in files} >= {"index.html", "summary.json"}
    text = _all_files_text(tmp_path / "out")
    text += "\n".join(f"{k} {e.metadata} {e.description}" for k, e in evals.items())
    text += "\n" + inputs.error_line()
    for ident in S.person_identifiers():
        assert ident not in text, "a person-level value leaked"


def test_gx_result_format_keeps_duplicate_ids_out():
    """The GX configuration itself: on a row-level frame of person ids with duplicates, the result
    we request holds counts only (plain SUMMARY would list the ids)."""
    import pandas as pd
    from great_expectations.core import ExpectationSuite

    from pipeline.quality.gx_runner import RESULT_FORMAT, _batch_definition

    frame = pd.DataFrame({"pnr": [*S.PNRS, *S.PNRS[:3]]})
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    suite = ExpectationSuite(name="t", expectations=[
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "pnr"}, "meta": {}}])
    ours = batch.validate(suite, result_format=RESULT_FORMAT)
    assert ours.results[0].result["unexpected_count"] == 6
    assert not any(p in json.dumps(ours.to_json_dict(), default=str) for p in S.PNRS)
    plain = batch.validate(suite, result_format="SUMMARY")
    assert any(p in json.dumps(plain.to_json_dict(), default=str) for p in S.PNRS)
