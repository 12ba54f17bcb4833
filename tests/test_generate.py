"""Tests of the synthetic register generator (pipeline/generate.py) on small populations."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.contract import BOUNDARY_FILES, HISTORY, REGISTERS
from pipeline.generate import _apportion, _group_starts, _report_education, generate
from pipeline.reference import load_all

PERSONS = 4000
YEARS = (2019, 2021)
SEED = 7
SHARE = 0.4
ARROW_TYPES = {"string": (pa.string(), pa.large_string()), "int": (pa.int32(), pa.int64()),
               "float": (pa.float64(),), "bool": (pa.bool_(),), "date": (pa.date32(),)}


def _run(base: Path, seed: int = SEED) -> tuple[Path, dict]:
    out = base / "data"
    summary = generate(out, PERSONS, YEARS, seed, area_share=SHARE)
    return out, summary


@pytest.fixture(scope="module")
def gen(tmp_path_factory) -> tuple[Path, dict]:
    return _run(tmp_path_factory.mktemp("gen_a"))


@pytest.fixture(scope="module")
def ref() -> dict[str, pl.DataFrame]:
    return load_all()


def _years() -> range:
    return range(YEARS[0], YEARS[1] + 1)


def _read(out: Path, table: str, year: int) -> pl.DataFrame:
    return pl.read_parquet(out / "registers" / f"{table}_{year}.parquet")


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_layout_and_summary(gen):
    out, summary = gen
    for y in _years():
        for t in REGISTERS:
            assert (out / "registers" / f"{t}_{y}.parquet").is_file()
        assert summary["persons"][y] == _read(out, "bef", y).height
        assert summary["addresses"][y] == _read(out, "adresser", y).height
        for t in ("akm", "udda", "ind", "kraf"):
            assert summary[t][y] == _read(out, t, y).height
    assert summary["persons"][YEARS[0]] == PERSONS
    for sub in ("boundaries", "boundaries_corrected"):
        assert (out / sub / "areas.csv").is_file() and (out / sub / "parcels.csv").is_file()
    assert (out / "history" / "lists.csv").is_file()
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in readme
    assert f"--persons {PERSONS} --years 2019-2021 --seed {SEED} --area-share {SHARE}" in readme
    assert not list(out.rglob("*.tmp"))


def test_deterministic_byte_identical(gen, tmp_path):
    out, _ = gen
    again, _ = _run(tmp_path)
    a, b = _digest(out), _digest(again)
    assert a.keys() == b.keys()
    assert a == b
    other, _ = _run(tmp_path / "other", seed=SEED + 1)
    assert _digest(other)["registers/bef_2019.parquet"] != a["registers/bef_2019.parquet"]


def test_register_schema_matches_contract(gen):
    out, _ = gen
    for y in _years():
        for name, table in REGISTERS.items():
            schema = pq.read_schema(out / "registers" / f"{name}_{y}.parquet")
            assert schema.names == table.column_names, name
            for col in table.columns:
                assert schema.field(col.name).type in ARROW_TYPES[col.type], (name, col.name)


def test_boundary_and_history_columns(gen):
    out, _ = gen
    for sub in ("boundaries", "boundaries_corrected"):
        for name, table in BOUNDARY_FILES.items():
            df = pl.read_csv(out / sub / f"{name}.csv")
            assert df.columns == table.column_names
    hist = pl.read_csv(out / "history" / "lists.csv")
    assert hist.columns == HISTORY.column_names


def test_codes_come_from_code_lists(gen, ref):
    out, _ = gen
    kom = set(ref["municipalities"]["kom"].to_list())
    countries = set(ref["countries"]["opr_land"].to_list())
    for y in _years():
        bef = _read(out, "bef", y)
        assert set(bef["kom"].unique().to_list()) <= kom
        assert set(bef["opr_land"].unique().to_list()) <= countries
        assert set(bef["koen"].unique().to_list()) == {1, 2}
        assert set(bef["ie_type"].unique().to_list()) == {1, 2, 3}
        assert bef["alder"].min() >= 0 and bef["alder"].max() <= 125
        # Danish origin is DNK; immigrants and descendants have another origin
        assert set(bef.filter(pl.col("ie_type") == 1)["opr_land"].unique().to_list()) == {"DNK"}
        assert "DNK" not in bef.filter(pl.col("ie_type") == 2)["opr_land"].to_list()
        akm = _read(out, "akm", y)
        assert set(akm["socio13"].unique().to_list()) <= set(ref["socio13"]["socio13"].to_list())
        udda = _read(out, "udda", y)
        assert set(udda["hfaudd"].drop_nulls().unique().to_list()) <= set(ref["hfaudd"]["hfaudd"].to_list())
        assert set(udda["hfaudd_kilde"].drop_nulls().unique().to_list()) == {1, 2, 3, 4}
        kraf = _read(out, "kraf", y)
        assert set(kraf["afg_afgtyp"].unique().to_list()) <= set(ref["decision_types"]["afg_afgtyp"].to_list())
        assert kraf["afg_ger7"].str.contains(r"^[123]\d{6}$").all()
        adr = _read(out, "adresser", y)
        assert set(adr["kom"].unique().to_list()) <= kom
        assert adr["matrikelnr"].str.contains(r"^\d+[a-z]$").all()


def test_keys_unique_and_addresses_resolve(gen):
    out, _ = gen
    for y in _years():
        for t in ("bef", "akm", "udda", "ind"):
            pnr = _read(out, t, y)["pnr"]
            assert pnr.is_unique().all(), (t, y)
            assert pnr.str.contains(r"^\d{10}$").all()
        adr = _read(out, "adresser", y)
        assert adr["adresse_id"].is_unique().all()
        bef = _read(out, "bef", y)
        nulls = bef["adresse_id"].null_count()
        assert 0 < nulls < 0.01 * bef.height or bef.height < 2000
        joined = bef.drop_nulls("adresse_id").join(adr, on="adresse_id", how="left", suffix="_adr")
        assert joined["kom_adr"].null_count() == 0          # every address is in adresser
        assert (joined["kom"] == joined["kom_adr"]).all()    # kom = municipality of the address


def test_panel_consistency(gen):
    out, _ = gen
    for y in range(YEARS[0], YEARS[1]):
        a, b = _read(out, "bef", y), _read(out, "bef", y + 1)
        both = a.join(b, on="pnr", suffix="_next")
        assert both.height > 0.96 * a.height                         # most persons persist
        assert (both["alder_next"] == both["alder"] + 1).all()        # ages by exactly one
        for col in ("koen", "ie_type", "opr_land"):
            assert (both[col] == both[f"{col}_next"]).all()
        moved = both.drop_nulls(["adresse_id", "adresse_id_next"]).filter(pl.col("adresse_id") != pl.col("adresse_id_next"))
        assert 0.04 * both.height < moved.height < 0.16 * both.height
        new = b.join(a, on="pnr", how="anti")
        assert new.filter(pl.col("alder") == 0).height > 0            # births
        assert new.filter(pl.col("ie_type") == 2).height > 0          # immigrants
        assert new.filter(pl.col("alder") > 0, pl.col("ie_type") != 2).height == 0
        # the year's registers cover the next year's population
        akm = _read(out, "akm", y)
        covered = b.join(akm, on="pnr", how="semi").height
        assert 0.98 * b.height < covered < b.height                   # a few lack an akm record


def test_descendants_are_young_and_born_to_immigrants(gen, ref):
    out, _ = gen
    bef = _read(out, "bef", YEARS[1])
    nonwestern = set(ref["countries"].filter(~pl.col("western"))["opr_land"].to_list())
    desc = bef.filter(pl.col("ie_type") == 3)
    assert desc.height > 0
    assert desc["alder"].median() < 25
    assert desc.filter(pl.col("opr_land").is_in(list(nonwestern))).height > 0.5 * desc.height


def test_dates_inside_year_and_non_counting_decisions(gen):
    out, _ = gen
    for y in _years():
        kraf = _read(out, "kraf", y)
        assert kraf["afg_dato"].min() >= dt.date(y, 1, 1)
        assert kraf["afg_dato"].max() <= dt.date(y, 12, 31)
        assert kraf.filter(pl.col("afg_afgtyp").is_in([6, 7, 8])).height > 0
        assert kraf.filter(pl.col("afg_ger7").str.starts_with("2")).height > 0
        assert kraf["pnr"].is_duplicated().any()                    # several decisions per person


def test_income_and_education_edge_cases_present(tmp_path):
    # a larger population, one year, so that the rare cases are certain to occur
    out = tmp_path / "big"
    generate(out, 30_000, (2020, 2020), 3)
    ind = _read(out, "ind", 2020)
    assert ind["perindkialt_13"].null_count() > 0
    assert (ind["perindkialt_13"] < 0).sum() > 0
    assert 0.005 < (~ind["skattepligtig"]).mean() < 0.06
    udda = _read(out, "udda", 2020)
    assert udda["hfaudd"].null_count() > 0
    bef = _read(out, "bef", 2020)
    assert bef.filter(pl.col("alder") >= 30).join(udda, on="pnr", how="anti").height > 0  # no record
    akm = _read(out, "akm", 2020)
    adults = bef.filter(pl.col("alder").is_between(25, 60)).join(akm, on="pnr")
    emp = adults.filter(pl.col("socio13").is_between(110, 139)).join(ind, on="pnr")
    median = emp["perindkialt_13"].median()
    assert 200_000 < median < 450_000


def test_parcels_in_at_most_one_area(gen):
    out, _ = gen
    for sub in ("boundaries", "boundaries_corrected"):
        areas = pl.read_csv(out / sub / "areas.csv")
        parcels = pl.read_csv(out / sub / "parcels.csv")
        assert areas.height > 1
        assert areas["area_id"].is_unique().all() and areas["area_name"].is_unique().all()
        assert not parcels.select(["ejerlavskode", "matrikelnr"]).is_duplicated().any()
        assert set(parcels["area_id"].unique().to_list()) <= set(areas["area_id"].to_list())
    # every area parcel carries addresses
    adr = _read(out, "adresser", YEARS[0])
    parcels = pl.read_csv(out / "boundaries" / "parcels.csv", schema_overrides={"ejerlavskode": pl.Int32})
    assert parcels.join(adr, on=["ejerlavskode", "matrikelnr"], how="anti").height == 0


def test_corrected_boundaries_split_one_area_and_move_parcels(gen):
    out, summary = gen
    key = ["ejerlavskode", "matrikelnr"]
    a0 = pl.read_csv(out / "boundaries" / "areas.csv")
    a1 = pl.read_csv(out / "boundaries_corrected" / "areas.csv")
    p0 = pl.read_csv(out / "boundaries" / "parcels.csv")
    p1 = pl.read_csv(out / "boundaries_corrected" / "parcels.csv")
    gone = set(a0["area_id"]) - set(a1["area_id"])
    new = set(a1["area_id"]) - set(a0["area_id"])
    assert len(gone) == 1 and len(new) == 2
    split = gone.pop()
    assert split == summary["corrected"]["split_area"]
    # the two new areas hold exactly the split area's parcels
    assert (p0.filter(pl.col("area_id") == split).select(key).sort(key)
            .equals(p1.filter(pl.col("area_id").is_in(list(new))).select(key).sort(key)))
    assert all(p1.filter(pl.col("area_id") == n).height > 0 for n in new)
    # some parcels changed area (among areas that exist in both versions) or were added
    j = p0.join(p1, on=key, how="full", suffix="_c", coalesce=True)
    kept = j.filter(pl.col("area_id") != split, pl.col("area_id").is_not_null())
    changed = kept.filter(pl.col("area_id") != pl.col("area_id_c")).height + j["area_id"].null_count()
    assert changed == summary["corrected"]["moved_parcels"] > 0
    # the rest unchanged
    assert kept.filter(pl.col("area_id") == pl.col("area_id_c")).height == kept.height - (
        kept.filter(pl.col("area_id") != pl.col("area_id_c")).height)
    assert a1.filter(~pl.col("area_id").is_in(list(new))).sort("area_id").equals(
        a0.filter(pl.col("area_id") != split).sort("area_id"))


def test_history_years_and_ids(gen):
    out, _ = gen
    hist = pl.read_csv(out / "history" / "lists.csv")
    areas = set(pl.read_csv(out / "boundaries" / "areas.csv")["area_id"].to_list())
    assert set(hist["list"].unique().to_list()) <= {"parallel", "transformation"}
    assert set(hist["area_id"].to_list()) <= areas
    if hist.height:
        assert hist["list_year"].min() >= min(YEARS[0] - 4, 2014) and hist["list_year"].max() <= YEARS[0] + 1
    assert not hist.is_duplicated().any()


def test_history_covers_every_year_at_small_scale(tmp_path):
    """At 20,000 persons no area is parallel at the first data year, and the history file had no
    row at all, so every generated list year failed on its history gap (METHOD.md § 6). Every
    history year now has a row."""
    out = tmp_path / "small"
    generate(out, 20_000, (2012, 2021), 20241201)
    hist = pl.read_csv(out / "history" / "lists.csv")
    assert sorted(set(hist["list_year"].to_list())) == list(range(2008, 2014))
    assert not hist.is_duplicated().any()


def test_history_reaches_the_first_computable_list_year_when_data_start_before_2012(tmp_path):
    """Registers from 2011: list year 2013 reads registers of 2011-2012 but has no rule set (lists
    before 2014 exist only as history rows, METHOD.md § 6), so the history must cover it; it
    stopped at 2012 and every generated list year from 2018 failed on the gap."""
    out = tmp_path / "from2011"
    generate(out, 2_000, (2011, 2014), 5)
    hist = pl.read_csv(out / "history" / "lists.csv")
    assert sorted(set(hist["list_year"].to_list())) == list(range(2007, 2014))


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="years"):
        generate(tmp_path / "x", 1000, (2021, 2020), 1)
    with pytest.raises(ValueError, match="area_share"):
        generate(tmp_path / "x", 1000, (2020, 2020), 1, area_share=0.9)


def test_progress_is_called_per_step(tmp_path):
    msgs: list[str] = []
    generate(tmp_path / "p", 1000, (2020, 2021), 1, progress=msgs.append)
    assert msgs[0].startswith("building")
    assert sum(m.startswith("year ") for m in msgs) == 2
    assert msgs[-1].startswith("done")


def test_helpers_by_hand():
    assert _apportion(10, np.array([1.0, 1.0, 1.0])).tolist() == [4, 3, 3]
    assert _apportion(7, np.array([5.0, 0.0, 2.0])).tolist() == [5, 0, 2]
    assert _group_starts(np.array([1, 1, 2, 2, 2, 5])).tolist() == [0, 0, 2, 2, 2, 5]
    # final education: a master's degree (7010, done at 26): basic at 15, gymnasium at 20, final at 26
    got = _report_education(np.array([7010, 7010, 7010, 3010, 3010, 1510]), np.array([15, 20, 26, 18, 21, 15]))
    assert got.tolist() == [1007, 2010, 7010, 1007, 3010, 1007]
