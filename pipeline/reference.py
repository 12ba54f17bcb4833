"""The code lists (municipalities and regions, countries, SOCIO13, education, crime laws,
decision types). The package ships defaults (`pipeline/reference/*.csv`); a `reference/`
folder in the data directory overrides any of them file by file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.errors import InputError

PACKAGE_DIR = Path(__file__).parent / "reference"

# name -> (key column, schema)
REFERENCE_TABLES: dict[str, dict[str, type[pl.DataType] | pl.DataType]] = {
    "municipalities": {"kom": pl.Int32, "kom_name": pl.String, "region": pl.Int32, "region_name": pl.String},
    "countries": {"opr_land": pl.String, "name": pl.String, "western": pl.Boolean},
    "socio13": {"socio13": pl.Int32, "label": pl.String, "grp": pl.String},
    "hfaudd": {"hfaudd": pl.Int32, "h1": pl.Int32, "label": pl.String},
    "education_levels": {"h1": pl.Int32, "label": pl.String, "basic_only": pl.Boolean},
    "education_sources": {"hfaudd_kilde": pl.Int32, "label": pl.String, "danish_or_approved": pl.Boolean},
    "crime_laws": {"ger7_prefix": pl.String, "law": pl.String, "relevant": pl.Boolean},
    "decision_types": {"afg_afgtyp": pl.Int32, "label": pl.String, "guilty": pl.Boolean},
}


@dataclass(frozen=True)
class ReferenceFile:
    name: str
    path: Path
    sha256: str


def reference_files(data_dir: Path | None = None) -> list[ReferenceFile]:
    """Where each code list comes from: the data directory's override, else the package."""
    out = []
    for name in REFERENCE_TABLES:
        path = PACKAGE_DIR / f"{name}.csv"
        if data_dir is not None:
            override = Path(data_dir) / "reference" / f"{name}.csv"
            if override.is_file():
                path = override
        out.append(ReferenceFile(name, path, hashlib.sha256(path.read_bytes()).hexdigest()))
    return out


def load_reference(name: str, path: Path) -> pl.DataFrame:
    schema = REFERENCE_TABLES[name]
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file
        raise InputError(f"cannot read code list ({exc.__class__.__name__})", file=str(path)) from exc
    missing = [c for c in schema if c not in raw.columns]
    if missing:
        raise InputError("required column is missing", file=str(path), column=missing[0])
    cols = []
    for col, dtype in schema.items():
        s = raw[col].str.strip_chars()
        if dtype == pl.Boolean:
            low = s.str.to_lowercase()
            bad = ~low.is_in(["true", "false"])
            if bad.any():
                raise InputError("values must be true/false", file=str(path), column=col)
            cols.append((low == "true").alias(col))
        else:
            cast = s.cast(dtype, strict=False)
            if (cast.is_null() & s.is_not_null()).any():
                raise InputError(f"values must be of type {dtype}", file=str(path), column=col)
            cols.append(cast.alias(col))
    df = raw.select(cols)
    key = next(iter(schema))
    if df[key].is_null().any():
        raise InputError("a code is empty", file=str(path), column=key)
    if df[key].is_duplicated().any():
        raise InputError("code listed twice", file=str(path), column=key)
    return df


def load_all(data_dir: Path | None = None) -> dict[str, pl.DataFrame]:
    return {f.name: load_reference(f.name, f.path) for f in reference_files(data_dir)}
