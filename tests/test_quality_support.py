"""A small hand-made warehouse for the quality tests (no test in this file; helpers only).

List year 2024. Ten persons P0000001..P0000010, living at the same addresses in 2023 and 2024.
Areas: A1 = parcels (100,'1a') (100,'2b'); A2 = parcel (200,'5').
Addresses: ADR-0001, ADR-0002 on (100,'1a'); ADR-0003 on (100,'2b'); ADR-0004 on (200,'5');
ADR-0005 on (300,'9'), in no area.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from pipeline.contract import AREAS_COLUMNS

Y = 2024
PNRS = [f"P{i:07d}" for i in range(1, 11)]
AGES_2024 = [5, 20, 25, 30, 35, 40, 45, 50, 60, 70]
# person -> address: 4 in A1 on 1a, 2 in A1 on 2b, 3 in A2, 1 outside any area
HOMES = ["ADR-0001"] * 2 + ["ADR-0002"] * 2 + ["ADR-0003"] * 2 + ["ADR-0004"] * 3 + ["ADR-0005"]
INCOMES = [0.0, 187654.25, 201234.5, 256789.75, 312345.0, 298765.5, 345678.25, 276543.0, 223344.5, 198877.0]
ADDRESSES = [("ADR-0001", 101, 100, "1a"), ("ADR-0002", 101, 100, "1a"), ("ADR-0003", 101, 100, "2b"),
             ("ADR-0004", 147, 200, "5"), ("ADR-0005", 147, 300, "9")]


def person_identifiers() -> list[str]:
    """Every person-level value of the fixture that must never appear in an output."""
    vals = [*PNRS, *{h for h in HOMES}, *(a[0] for a in ADDRESSES)]
    vals += [repr(x) for x in INCOMES if x] + [str(int(x)) for x in INCOMES if x]
    return vals


def build(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("""create table stg_bef (year integer, pnr varchar, koen integer, alder integer, ie_type integer,
                   opr_land varchar, kom integer, adresse_id varchar)""")
    con.execute("create table stg_akm (year integer, pnr varchar, socio13 integer)")
    con.execute("create table stg_udda (year integer, pnr varchar, hfaudd integer, hfaudd_kilde integer)")
    con.execute("create table stg_ind (year integer, pnr varchar, perindkialt_13 double, skattepligtig boolean)")
    con.execute("create table stg_kraf (year integer, pnr varchar, afg_dato date, afg_ger7 varchar, afg_afgtyp integer)")
    con.execute("create table stg_adresser (year integer, adresse_id varchar, kom integer, ejerlavskode integer, matrikelnr varchar)")
    con.execute("create table stg_areas (area_id varchar, area_name varchar, kom integer)")
    con.execute("create table stg_parcels (area_id varchar, ejerlavskode integer, matrikelnr varchar)")
    con.execute("create table stg_history (area_id varchar, list_year integer, list varchar)")
    for year in (Y, Y - 1):
        for i, pnr in enumerate(PNRS):
            con.execute("insert into stg_bef values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [year, pnr, 1 + i % 2, AGES_2024[i] - (Y - year), 1 + (i % 3), "DNK" if i % 3 == 0 else "TUR",
                         101, HOMES[i]])
        for a in ADDRESSES:
            con.execute("insert into stg_adresser values (?, ?, ?, ?, ?)", [year, *a])
    for year in (Y - 1, Y - 2):
        for i, pnr in enumerate(PNRS):
            con.execute("insert into stg_akm values (?, ?, ?)", [year, pnr, 134 if i % 2 else 210])
        con.execute("insert into stg_kraf values (?, ?, ?, ?, ?)", [year, PNRS[3], f"{year}-05-17", "1234567", 1])
        con.execute("insert into stg_kraf values (?, ?, ?, ?, ?)", [year, PNRS[4], f"{year}-09-02", "3123456", 2])
    for i, pnr in enumerate(PNRS):
        con.execute("insert into stg_udda values (?, ?, ?, ?)", [Y - 1, pnr, 1001 if i % 2 else 1007, 1])
        con.execute("insert into stg_ind values (?, ?, ?, ?)", [Y - 1, pnr, INCOMES[i], True])
    con.execute("insert into stg_areas values ('A1', 'Testparken', 101), ('A2', 'Prøvehaven', 147)")
    con.execute("insert into stg_parcels values ('A1', 100, '1a'), ('A1', 100, '2b'), ('A2', 200, '5')")
    con.execute("insert into stg_history values ('A1', 2020, 'parallel'), ('A1', 2021, 'parallel'), "
                "('A1', 2021, 'transformation')")
    return con




def areas_table(list_year: int = Y) -> pd.DataFrame:
    """Three areas: B1 parallel + vulnerable (3 criteria), B2 prevention, B3 not eligible."""
    rows = [
        dict(area_id="B1", area_name="Nordparken", kom=101, region=1084, list_year=list_year, ruleset="2021",
             residents=2400, eligible=True, labour_share=0.45, labour_share_prev=0.46, labour_share_last=0.44,
             conviction_share=0.041, conviction_share_prev=0.04, conviction_share_last=0.042, conviction_ratio=3.1,
             basic_edu_share=0.62, area_mean_income=160000.0, region_mean_income=330000.0, income_ratio=0.4848,
             nonwestern_share=0.55, crit_labour=True, crit_conviction=True, crit_education=True, crit_income=True,
             crit_nonwestern=True, n_criteria=4, vulnerable=True, parallel=True, transformation=False,
             prevention=False, combined_letting=False, years_on_parallel_list=2, development_plan=False),
        dict(area_id="B2", area_name="Sydhaven", kom=147, region=1084, list_year=list_year, ruleset="2021",
             residents=1000, eligible=True, labour_share=0.35, labour_share_prev=0.36, labour_share_last=0.34,
             conviction_share=0.02, conviction_share_prev=0.02, conviction_share_last=0.02, conviction_ratio=1.5,
             basic_edu_share=0.5, area_mean_income=250000.0, region_mean_income=330000.0, income_ratio=0.7576,
             nonwestern_share=0.35, crit_labour=False, crit_conviction=False, crit_education=False,
             crit_income=False, crit_nonwestern=False, n_criteria=0, vulnerable=False, parallel=False,
             transformation=False, prevention=True, combined_letting=False, years_on_parallel_list=0,
             development_plan=False),
        dict(area_id="B3", area_name="Vestlunden", kom=147, region=1084, list_year=list_year, ruleset="2021",
             residents=999, eligible=False, years_on_parallel_list=0, vulnerable=False, parallel=False,
             transformation=False, prevention=False, combined_letting=False, development_plan=True),
    ]
    return pd.DataFrame(rows, columns=AREAS_COLUMNS)
