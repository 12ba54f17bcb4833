"""A tiny hand-built world for calculation tests: areas, persons and register rows by hand.

Each area has one parcel and one address (`ADR-<area_id>`); persons outside every area live at
`ADR-OUT`, a parcel in no area. `load(con)` creates the stg_ and ref_ tables exactly as the
ingestion does; `write_data_dir(path)` writes the same data as register extracts (Parquet).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipeline import contract, reference
from pipeline.calculate import (
    apply_history,
    build_list_counts,
    build_residents,
    build_yearly_counts,
    classify_year,
)
from pipeline.rules import RuleSet, ruleset_in_force

SCHEMAS = {table: contract.polars_schema(table) for table in contract.REGISTERS}


@dataclass
class World:
    areas: dict[str, int] = field(default_factory=dict)  # area_id -> kom
    names: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in SCHEMAS})
    history_rows: list[tuple[str, int, str]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def area(self, area_id: str, kom: int = 101, name: str | None = None) -> str:
        self.areas[area_id] = kom
        self.names[area_id] = name or f"Område {area_id}"
        return area_id

    def new_pnr(self) -> str:
        return f"P{next(self._ids):07d}"

    def person(
        self,
        year: int,
        alder: int,
        area: str | None = None,
        *,
        pnr: str | None = None,
        ie_type: int = 1,
        opr_land: str = "DNK",
        kom: int | None = None,
        koen: int = 1,
        no_address: bool = False,
    ) -> str:
        """A person in bef_year, living in `area` (None = outside every area)."""
        pnr = pnr or self.new_pnr()
        if kom is None:
            kom = self.areas[area] if area else 101
        adr = None if no_address else f"ADR-{area}" if area else "ADR-OUT"
        self.rows["bef"].append(
            dict(pnr=pnr, koen=koen, alder=alder, ie_type=ie_type, opr_land=opr_land, kom=kom, adresse_id=adr)
        )
        self.rows["bef"][-1]["year"] = year
        return pnr

    def crowd(self, year: int, n: int, alder: int, area: str | None = None, **kw) -> list[str]:
        return [self.person(year, alder, area, **kw) for _ in range(n)]

    def _add(self, table: str, year: int, **values) -> None:
        self.rows[table].append({"year": year, **values})

    def akm(self, year: int, pnrs: list[str] | str, socio13: int) -> None:
        for p in [pnrs] if isinstance(pnrs, str) else pnrs:
            self._add("akm", year, pnr=p, socio13=socio13)

    def udda(self, year: int, pnrs: list[str] | str, hfaudd: int | None, kilde: int | None = 1) -> None:
        for p in [pnrs] if isinstance(pnrs, str) else pnrs:
            self._add("udda", year, pnr=p, hfaudd=hfaudd, hfaudd_kilde=kilde)

    def ind(self, year: int, pnrs: list[str] | str, income: float | None, taxable: bool = True) -> None:
        for p in [pnrs] if isinstance(pnrs, str) else pnrs:
            self._add("ind", year, pnr=p, perindkialt_13=income, skattepligtig=taxable)

    def kraf(self, year: int, pnrs: list[str] | str, ger7: str = "1100001", afgtyp: int = 1,
             date: dt.date | None = None) -> None:  # fmt: skip
        for p in [pnrs] if isinstance(pnrs, str) else pnrs:
            self._add("kraf", year, pnr=p, afg_dato=date or dt.date(year, 6, 1), afg_ger7=ger7, afg_afgtyp=afgtyp)

    def history(self, area_id: str, list_year: int, lst: str = "parallel") -> None:
        self.history_rows.append((area_id, list_year, lst))

    # --- frames -------------------------------------------------------------------------------

    def years(self) -> list[int]:
        return sorted({r["year"] for rows in self.rows.values() for r in rows})

    def frame(self, table: str, year: int | None = None) -> pl.DataFrame:
        schema = {"year": pl.Int32, **SCHEMAS[table]}
        rows = self.rows[table]
        if table == "adresser":
            rows = self._addresses()
        df = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
        if year is not None:
            df = df.filter(pl.col("year") == year).drop("year")
        return df

    def _addresses(self) -> list[dict]:
        out = []
        for year in self.years():
            out.append(dict(year=year, adresse_id="ADR-OUT", kom=101, ejerlavskode=9999, matrikelnr="1a"))
            for i, (area_id, kom) in enumerate(sorted(self.areas.items()), start=1):
                out.append(dict(year=year, adresse_id=f"ADR-{area_id}", kom=kom, ejerlavskode=1000 + i, matrikelnr="1a"))
        return out

    def areas_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {"area_id": sorted(self.areas), "area_name": [self.names[a] for a in sorted(self.areas)],
             "kom": [self.areas[a] for a in sorted(self.areas)]},
            schema={"area_id": pl.String, "area_name": pl.String, "kom": pl.Int32},
        )  # fmt: skip

    def parcels_frame(self) -> pl.DataFrame:
        ids = sorted(self.areas)
        return pl.DataFrame(
            {"area_id": ids, "ejerlavskode": [1000 + i for i in range(1, len(ids) + 1)], "matrikelnr": ["1a"] * len(ids)},
            schema={"area_id": pl.String, "ejerlavskode": pl.Int32, "matrikelnr": pl.String},
        )  # fmt: skip

    def history_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            self.history_rows, schema={"area_id": pl.String, "list_year": pl.Int32, "list": pl.String}, orient="row"
        )

    # --- sinks --------------------------------------------------------------------------------

    def load(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the stg_ and ref_ tables directly (bypassing ingestion)."""
        for name, df in reference.load_all().items():
            con.register("__f", df.to_arrow())
            con.execute(f"create or replace table ref_{name} as select * from __f")
        for table in SCHEMAS:
            con.register("__f", self.frame(table).to_arrow())
            con.execute(f"create or replace table stg_{table} as select * from __f")
        for table, df in (("stg_areas", self.areas_frame()), ("stg_parcels", self.parcels_frame()),
                          ("stg_history", self.history_frame())):  # fmt: skip
            con.register("__f", df.to_arrow())
            con.execute(f"create or replace table {table} as select * from __f")
        con.unregister("__f")

    def write_data_dir(self, path: Path, years: list[int] | None = None) -> Path:
        """Write the world as a data directory of the contract (Parquet extracts)."""
        path = Path(path)
        (path / "registers").mkdir(parents=True, exist_ok=True)
        (path / "boundaries").mkdir(parents=True, exist_ok=True)
        for year in years or self.years():
            for table in SCHEMAS:
                self.frame(table, year).write_parquet(path / "registers" / f"{table}_{year}.parquet")
        self.areas_frame().write_csv(path / "boundaries" / "areas.csv")
        self.parcels_frame().write_csv(path / "boundaries" / "parcels.csv")
        if self.history_rows:
            (path / "history").mkdir(exist_ok=True)
            self.history_frame().write_csv(path / "history" / "lists.csv")
        return path


def compute_year(
    con: duckdb.DuckDBPyConnection,
    list_year: int,
    rules: RuleSet | None = None,
    plan: dict[int, str] | None = None,
    rules_for_year: dict[int, RuleSet] | None = None,
) -> pl.DataFrame:
    """Run every calculation step for one list year on a loaded world; the areas frame."""
    rules = rules or ruleset_in_force(list_year)
    for s in (list_year - 1, list_year):
        build_residents(con, s)
    for t in (list_year - 2, list_year - 1):
        build_yearly_counts(con, t, [rules])
    build_list_counts(con, list_year, rules)
    classify_year(con, list_year, rules)
    areas, _ = apply_history(con, list_year, rules, plan or {}, rules_for_year or {})
    return areas


def row(areas: pl.DataFrame, area_id: str) -> dict:
    return areas.filter(pl.col("area_id") == area_id).to_dicts()[0]
