"""The input data contract (spec/DATA_CONTRACT.md) as data: tables, columns, types, keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

# Contract type -> DuckDB type used in the warehouse.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of DUCKDB_TYPES
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique within one year's table; () = no key

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


REGISTERS: dict[str, Table] = {
    "bef": Table(
        "bef",
        (
            Column("pnr", "string"),
            Column("koen", "int"),
            Column("alder", "int"),
            Column("ie_type", "int"),
            Column("opr_land", "string"),
            Column("kom", "int"),
            Column("adresse_id", "string", nullable=True),
        ),
        key=("pnr",),
    ),
    "akm": Table("akm", (Column("pnr", "string"), Column("socio13", "int")), key=("pnr",)),
    "udda": Table(
        "udda",
        (
            Column("pnr", "string"),
            Column("hfaudd", "int", nullable=True),
            Column("hfaudd_kilde", "int", nullable=True),
        ),
        key=("pnr",),
    ),
    "ind": Table(
        "ind",
        (
            Column("pnr", "string"),
            Column("perindkialt_13", "float", nullable=True),
            Column("skattepligtig", "bool"),
        ),
        key=("pnr",),
    ),
    "kraf": Table(
        "kraf",
        (
            Column("pnr", "string"),
            Column("afg_dato", "date"),
            Column("afg_ger7", "string"),
            Column("afg_afgtyp", "int"),
        ),
    ),
    "adresser": Table(
        "adresser",
        (
            Column("adresse_id", "string"),
            Column("kom", "int"),
            Column("ejerlavskode", "int"),
            Column("matrikelnr", "string"),
        ),
        key=("adresse_id",),
    ),
}

BOUNDARY_FILES: dict[str, Table] = {
    "areas": Table(
        "areas",
        (Column("area_id", "string"), Column("area_name", "string"), Column("kom", "int")),
        key=("area_id",),
    ),
    "parcels": Table(
        "parcels",
        (Column("area_id", "string"), Column("ejerlavskode", "int"), Column("matrikelnr", "string")),
        key=("ejerlavskode", "matrikelnr"),
    ),
}

HISTORY = Table(
    "lists",
    (Column("area_id", "string"), Column("list_year", "int"), Column("list", "string")),
)
HISTORY_LISTS = ("parallel", "transformation")

# The columns of areas.csv, in order (spec/OUTPUTS.md).
AREAS_COLUMNS = (
    "area_id", "area_name", "kom", "region", "list_year", "ruleset", "residents", "eligible",
    "labour_share", "labour_share_prev", "labour_share_last",
    "conviction_share", "conviction_share_prev", "conviction_share_last", "conviction_ratio",
    "basic_edu_share", "area_mean_income", "region_mean_income", "income_ratio", "nonwestern_share",
    "crit_labour", "crit_conviction", "crit_education", "crit_income", "crit_nonwestern", "n_criteria",
    "vulnerable", "parallel", "transformation", "prevention", "combined_letting",
    "years_on_parallel_list", "development_plan",
)  # fmt: skip

# Extensions in order of preference when several exist for one table and year.
REGISTER_EXTENSIONS = (".parquet", ".csv", ".sas7bdat")


def register_candidates(data_dir: Path, table: str, year: int) -> list[Path]:
    return [Path(data_dir) / "registers" / f"{table}_{year}{ext}" for ext in REGISTER_EXTENSIONS]


def find_register_file(data_dir: Path, table: str, year: int) -> Path:
    """The extract of `table` for `year`; an InputError naming the file when there is none, or
    when there are two (say `bef_2024.parquet` beside a corrected `bef_2024.csv`: taking one of
    them by its extension would publish from the other one's data without a word)."""
    found = [path for path in register_candidates(data_dir, table, year) if path.is_file()]
    if len(found) > 1:
        raise InputError(
            f"{len(found)} extracts of {table} for {year} ({', '.join(p.name for p in found)}): keep one",
            file=str(found[0]),
            year=year,
        )
    if found:
        return found[0]
    expected = Path(data_dir) / "registers" / f"{table}_{year}.parquet"
    raise InputError(
        "register extract is missing (looked for .parquet, .csv, .sas7bdat)",
        file=str(expected),
        year=year,
    )


def available_years(data_dir: Path, table: str) -> list[int]:
    """Years for which `table` has an extract in `data_dir`."""
    years: set[int] = set()
    reg = Path(data_dir) / "registers"
    if not reg.is_dir():
        return []
    for ext in REGISTER_EXTENSIONS:
        for p in reg.glob(f"{table}_*{ext}"):
            stem = p.name[len(table) + 1 : -len(ext)]
            if stem.isdigit() and len(stem) == 4:
                years.add(int(stem))
    return sorted(years)


def year_runs(years) -> list[tuple[int, int]]:
    """The years as runs of consecutive years, (first, last) each, in order."""
    out: list[tuple[int, int]] = []
    for y in sorted(set(int(y) for y in years)):
        if out and y == out[-1][1] + 1:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return out


def year_span(first: int, last: int) -> str:
    """The years first..last as text: "2014-2016", or "2014" for one year."""
    return str(first) if first == last else f"{first}-{last}"


def needed_registers(list_year: int) -> list[tuple[str, int]]:
    """The register tables and years that list year Y reads (DATA_CONTRACT.md, last section)."""
    y = list_year
    return [
        ("bef", y),
        ("bef", y - 1),
        ("adresser", y),
        ("adresser", y - 1),
        ("akm", y - 1),
        ("akm", y - 2),
        ("kraf", y - 1),
        ("kraf", y - 2),
        ("udda", y - 1),
        ("ind", y - 1),
    ]


def polars_schema(table: str, int_dtype: object = None) -> dict:
    """The contract columns of a register table as a polars schema (ints as `int_dtype`, Int32 by default)."""
    import polars as pl

    types = {"string": pl.String, "int": int_dtype or pl.Int32, "float": pl.Float64, "bool": pl.Boolean, "date": pl.Date}
    return {c.name: types[c.type] for c in REGISTERS[table].columns}
