"""The ingestion assets in Dagster: partitioned loads, blocking checks, reruns, warnings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.ingestion import (
    boundaries,
    defs,
    history,
    ingestion_assets,
    reference,
    register_assets,
)
from assets.calculation import residents
from assets.resources import Settings, resources_for
from pipeline.errors import InputError
from tests.ingest_helpers import frame, make_data_dir, snapshot, write_register


def _settings(data: Path, out: Path) -> Settings:
    return Settings(data_dir=str(data), out_dir=str(out))


def _run(settings: Settings, **kw) -> dg.ExecuteInProcessResult:
    return dg.materialize(ingestion_assets, resources=resources_for(settings), **kw)


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], tuple[bool, str]]:
    return {
        (e.asset_key.to_user_string(), e.check_name): (e.passed, e.severity.value)
        for e in result.get_asset_check_evaluations()
    }


def _meta(result, key: str, name: str):
    for ev in result.get_asset_materialization_events():
        if ev.asset_key.to_user_string() == key:
            return ev.step_materialization_data.materialization.metadata[name].value
    raise KeyError(key)


def test_definitions_declare_the_ingestion_assets_and_checks():
    keys = {k.to_user_string() for a in defs.assets for k in a.keys}
    assert keys == {"reference", "boundaries", "history", "bef", "akm", "udda", "ind", "kraf", "adresser"}
    (registers,) = register_assets
    assert registers.partitions_def is not None and registers.can_subset
    assert {k.to_user_string() for k in registers.keys} == {"bef", "akm", "udda", "ind", "kraf", "adresser"}
    for key in registers.keys:
        assert registers.group_names_by_key[key] == "ingestion"
        assert {d.to_user_string() for d in registers.asset_deps[key]} == {"reference"}
    assert all(spec.blocking for spec in registers.check_specs)
    assert {d.to_user_string() for d in history.asset_deps[history.key]} == {"boundaries"}
    assert reference.partitions_def is None and boundaries.partitions_def is None

    def checks_of(table: str) -> list[str]:
        return sorted(s.name for s in registers.check_specs if s.asset_key == dg.AssetKey(table))

    assert checks_of("bef") == ["age_range", "codes_in_reference", "columns_and_types", "unique_key"]
    assert checks_of("kraf") == ["codes_in_reference", "columns_and_types", "dates_in_year"]


def test_materialize_year_then_rerun_without_duplicates(tmp_path):
    data = make_data_dir(tmp_path)
    s = _settings(data, tmp_path / "out")
    db = s.warehouse_path

    first = _run(s, partition_key="2024")
    assert first.success
    assert _rows(db, "select count(*) from stg_bef where year = 2024") == [(4,)]
    assert _rows(db, "select count(*) from stg_kraf") == [(3,)]
    assert _rows(db, "select count(*) from stg_areas") == [(2,)]
    assert _rows(db, "select count(*) from stg_history") == [(3,)]
    assert _meta(first, "bef", "rows") == 4
    assert _meta(first, "bef", "status") == "loaded"
    checks = _checks(first)
    assert checks[("bef", "age_range")] == (True, "ERROR")
    assert checks[("kraf", "dates_in_year")] == (True, "ERROR")
    # Z9 is in the history but not in the boundaries: a warning, not a failure
    assert checks[("history", "areas_in_boundaries")] == (False, "WARN")
    assert _meta(first, "history", "unknown_area_rows") == 1

    second = _run(s, partition_key="2024")
    assert second.success
    assert _meta(second, "bef", "status") == "unchanged"
    assert _meta(second, "adresser", "status") == "unchanged"
    assert _meta(second, "boundaries", "status") == "unchanged"
    assert _rows(db, "select count(*) from stg_bef") == [(4,)]
    assert _rows(db, "select count(*) from meta_ingest where year = 2024") == [(6,)]


def test_only_new_boundaries_reuses_the_registers(tmp_path):
    data = make_data_dir(tmp_path)
    s = _settings(data, tmp_path / "out")
    assert dg.materialize([reference, *register_assets], partition_key="2024", resources=resources_for(s)).success
    (data / "boundaries" / "parcels.csv").write_text(
        "area_id,ejerlavskode,matrikelnr\nA1,100,1a\nA2,100,3\n", encoding="utf-8"
    )
    r1 = dg.materialize([boundaries], resources=resources_for(s))
    assert _meta(r1, "boundaries", "parcels") == 2
    # both parcels now match an address of the loaded 2024 table
    r = dg.materialize([residents], partition_key="2024", resources=resources_for(s))
    assert _checks(r)[("residents", "parcels_match_addresses")] == (True, "WARN")
    r2 = dg.materialize([reference, *register_assets], partition_key="2024", resources=resources_for(s))
    assert {_meta(r2, t, "status") for t in ("bef", "akm", "udda", "ind", "kraf", "adresser")} == {"unchanged"}


def test_parcel_without_address_is_a_warning(tmp_path):
    data = make_data_dir(tmp_path)
    s = _settings(data, tmp_path / "out")
    assert dg.materialize([reference, *register_assets], partition_key="2024", resources=resources_for(s)).success
    assert dg.materialize([reference, boundaries], resources=resources_for(s)).success
    r = dg.materialize([residents], partition_key="2024", resources=resources_for(s))
    assert r.success
    assert _checks(r)[("residents", "parcels_match_addresses")] == (False, "WARN")
    ev = next(e for e in r.get_asset_check_evaluations() if e.check_name == "parcels_match_addresses")
    assert ev.metadata["parcels_without_address"].value == 1  # (200, 9) of A2


def test_blocking_check_failure_raises_the_input_error_and_commits_nothing(tmp_path):
    data = make_data_dir(tmp_path)
    s = _settings(data, tmp_path / "out")
    assert _run(s, partition_key="2024").success
    before = snapshot(s.warehouse_path)
    path = write_register(data, "bef", 2024, frame("bef", alder=[30, 45, 0, 126]))
    with pytest.raises(InputError) as e:
        _run(s, partition_key="2024")
    assert str(e.value) == f"file {path}, column alder, year 2024: 1 of 4 rows have an age outside 0-125"
    assert snapshot(s.warehouse_path) == before


def test_failed_asset_stops_its_downstream(tmp_path):
    data = make_data_dir(tmp_path)
    s = _settings(data, tmp_path / "out")
    write_register(data, "akm", 2024, frame("akm", pnr=["p1", "p1", "p4"]))
    r = _run(s, partition_key="2024", raise_on_error=False)
    assert not r.success
    failures = [e for e in r.all_events if e.is_step_failure]
    # the extracts of a year load side by side in one step: it fails on akm's error, after the
    # other extracts of the year were loaded and materialized; nothing downstream ran
    assert [e.step_key for e in failures] == ["registers"]
    assert "column pnr, year 2024: 2 of 3 rows share their pnr" in failures[0].event_specific_data.error.cause.message
    materialized = {e.asset_key.to_user_string() for e in r.get_asset_materialization_events()}
    assert materialized == {"reference", "boundaries", "history", "bef", "udda", "ind", "kraf", "adresser"}
    assert "stg_akm" not in snapshot(s.warehouse_path)
    assert _rows(s.warehouse_path, "select count(*) from stg_bef") == [(4,)]
