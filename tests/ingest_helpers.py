"""Tiny hand-made input directories for the ingestion tests (shared by tests/test_ingest*.py).

The values are chosen so every count in the tests can be checked by hand:

- bef_2024: 4 persons (p1..p4); p3 has no address.
- akm_2024: 3 persons; udda_2024: 3 persons (one without education); ind_2024: 3 persons (one
  without income); kraf_2024: 3 decisions of 2 persons; adresser_2024: 3 addresses.
- boundaries: areas A1 (kom 101) and A2 (kom 147); parcels (100, 1a) and (100, 2b) of A1 match
  addresses, (200, 9) of A2 matches none.
- history: 3 rows, one of them for an area (Z9) that is not in the boundaries.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from pipeline.contract import REGISTERS, polars_schema

YEAR = 2024

REGISTER_ROWS: dict[str, dict[str, list]] = {
    "bef": {
        "pnr": ["p1", "p2", "p3", "p4"],
        "koen": [1, 2, 1, 2],
        "alder": [30, 45, 0, 125],
        "ie_type": [1, 2, 3, 2],
        "opr_land": ["DNK", "TUR", "DNK", "SYR"],
        "kom": [101, 101, 147, 101],
        "adresse_id": ["a1", "a2", None, "a3"],
    },
    "akm": {"pnr": ["p1", "p2", "p4"], "socio13": [131, 210, 322]},
    "udda": {"pnr": ["p1", "p2", "p4"], "hfaudd": [1001, None, 1510], "hfaudd_kilde": [1, None, 3]},
    "ind": {
        "pnr": ["p1", "p2", "p4"],
        "perindkialt_13": [350000.5, -1200.25, None],
        "skattepligtig": [True, True, False],
    },
    "kraf": {
        "pnr": ["p1", "p1", "p2"],
        "afg_dato": [dt.date(2024, 1, 1), dt.date(2024, 6, 15), dt.date(2024, 12, 31)],
        "afg_ger7": ["1234567", "3100000", "2000001"],
        "afg_afgtyp": [1, 3, 6],
    },
    "adresser": {
        "adresse_id": ["a1", "a2", "a3"],
        "kom": [101, 101, 101],
        "ejerlavskode": [100, 100, 100],
        "matrikelnr": ["1a", "2b", "3"],
    },
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {t: polars_schema(t, pl.Int64) for t in REGISTERS}

AREAS_CSV = "area_id,area_name,kom\nA1,Nordparken,101\nA2,Sydparken,147\n"
PARCELS_CSV = "area_id,ejerlavskode,matrikelnr\nA1,100,1a\nA1,100,2b\nA2,200,9\n"
HISTORY_CSV = "area_id,list_year,list\nA1,2019,parallel\nA1,2020,parallel\nZ9,2018,parallel\n"


def frame(table: str, **overrides: list) -> pl.DataFrame:
    """The table's rows as a polars frame; `overrides` replace (or add) whole columns, with the
    type polars infers from their values (so a test can put text in an int column)."""
    cols = []
    for name, values in {**REGISTER_ROWS[table], **overrides}.items():
        if name in overrides and any(v is not None for v in values):
            cols.append(pl.Series(name, values))
        else:
            cols.append(pl.Series(name, values, dtype=SCHEMAS[table].get(name, pl.String)))
    return pl.DataFrame(cols)


def write_register(data_dir: Path, table: str, year: int = YEAR, df: pl.DataFrame | None = None,
                   fmt: str = "parquet") -> Path:
    df = frame(table) if df is None else df
    reg = Path(data_dir) / "registers"
    reg.mkdir(parents=True, exist_ok=True)
    for old in reg.glob(f"{table}_{year}.*"):
        old.unlink()
    path = reg / f"{table}_{year}.{fmt}"
    if fmt == "parquet":
        df.write_parquet(path)
    elif fmt == "csv":
        df.write_csv(path)
    else:
        raise ValueError(fmt)
    return path


def make_data_dir(root: Path, years=(YEAR,), fmt: str = "parquet", history: bool = True) -> Path:
    """A complete data directory: every register for each year, boundaries and history."""
    data = Path(root) / "data"
    for year in years:
        for table in REGISTER_ROWS:
            df = frame(table)
            if table == "kraf":
                df = df.with_columns(pl.col("afg_dato").map_elements(
                    lambda d, y=year: d.replace(year=y), return_dtype=pl.Date))
            write_register(data, table, year, df, fmt)
    b = data / "boundaries"
    b.mkdir(parents=True, exist_ok=True)
    (b / "areas.csv").write_text(AREAS_CSV, encoding="utf-8")
    (b / "parcels.csv").write_text(PARCELS_CSV, encoding="utf-8")
    if history:
        (data / "history").mkdir(exist_ok=True)
        (data / "history" / "lists.csv").write_text(HISTORY_CSV, encoding="utf-8")
    return data


def snapshot(db: Path) -> dict[str, list]:
    """Every table of the warehouse file with all its rows (sorted), to compare before/after."""
    if not Path(db).exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        return {t: sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in tables}
    finally:
        con.close()
