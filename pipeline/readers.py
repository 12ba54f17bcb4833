"""Readers of register extracts, boundary and history files: Parquet, CSV and SAS datasets.

A reader exposes one file to DuckDB as two temporary views:

- the *raw* view: the file as stored (Parquet types, CSV as text, SAS numbers as floats);
- the *source* view: only the contract's columns, under their contract names, normalised so
  that a plain SQL `cast` to the contract type is exact (blank text -> null, SAS floats that
  are meant as strings -> whole-number text, ISO timestamps in text -> their date).

Before anything is loaded, `check_types` counts (in one aggregate query) the rows whose value
cannot be represented exactly in the contract type (e.g. 1.5 for an int, 'abc' for a date) and
the rows that are empty in a required column. Failures are `InputError`s that give counts,
never values. File paths are always bound as parameters or passed to DuckDB's Python API, never
formatted into SQL; only identifiers taken from the contract or from the file's own column
list (quoted) appear in SQL text.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.contract import DUCKDB_TYPES, Column, Table
from pipeline.errors import InputError
from pipeline.warehouse import quote_ident

_counter = itertools.count()

INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}
FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}

# Text forms accepted for each contract type (after trimming; blank is null).
INT_TEXT = r"[+-]?[0-9]+(\.0*)?"
FLOAT_TEXT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
BOOL_TEXT = ("true", "false", "1", "0")
DATE_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?)?"

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# The calendar of the registers: a timestamp with a time zone (an instant) is read as the date it
# fell on in Denmark. DuckDB's ICU extension, statically linked, holds the zone database.
DATE_ZONE = "Europe/Copenhagen"


def _kind(duck_type: str) -> str:
    t = duck_type.upper()
    if t in INT_TYPES:
        return "int"
    if t in FLOAT_TYPES or t.startswith("DECIMAL"):
        return "float"
    if t == "VARCHAR" or t.startswith("VARCHAR("):
        return "text"
    if t == "BOOLEAN":
        return "bool"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t in ('"NULL"', "NULL"):
        return "null"
    return "other"


def source_kind(duck_type: str) -> str:
    """How a file stores a column, as far as matching its values as text goes: "text", "number"
    (an integer or a float: read as its decimal text, without leading zeros) or "other"."""
    kind = _kind(duck_type)
    return "number" if kind in ("int", "float") else kind if kind == "text" else "other"


def trimmed(ref: str) -> str:
    """SQL: the text `ref` without the white space DuckDB's `trim` removes at either end (the
    Unicode space separators, Zs), empty -> null: `nullif(trim(ref), '')`, exactly.

    `trim` runs only on the values it could change. Every Zs code point but the ASCII space is
    more than one byte in UTF-8, so a value that `trim` changes, or the empty value, starts with
    a byte up to 0x20 (`< '!'`, DuckDB compares text bytewise), holds a space, or holds a
    character that is not ASCII (more bytes than characters). The test is three byte-level
    comparisons, the trim a per-character scan: on the identifiers of a national register (no
    value padded) the copy spends about half as much on it (docs/PERFORMANCE.md, sixteenth
    session). tests/test_readers.py checks the guard against `trim` on every code point."""
    return f"(case when {trim_could_change(ref)} then nullif(trim({ref}), '') else {ref} end)"


def trim_could_change(ref: str) -> str:
    """SQL: true for every value of the text `ref` that `trim` changes, and for the empty value
    (the guard of `trimmed`)."""
    return f"({ref} < '!' or contains({ref}, ' ') or strlen({ref}) <> length({ref}))"


def column_rules(col: Column, raw_ref: str, duck_type: str) -> tuple[str, str, str]:
    """(normalised expression, validity predicate, what is wrong) for one column.

    `raw_ref` is the quoted column in the raw view, `duck_type` its DuckDB type. The validity
    predicate is true for null and for every value the contract type holds exactly; the
    normalised expression is what the staging SQL casts.
    """
    kind = _kind(duck_type)
    target = col.type
    wrong = f"are not of type {target} (the column is stored as {duck_type})"
    if kind == "null":
        return f"cast({raw_ref} as {DUCKDB_TYPES[target]})", "true", wrong
    if kind == "text":
        x = trimmed(raw_ref)
        if target == "string":
            return x, "true", wrong
        if target == "int":
            ok = f"({x} is null or (regexp_full_match({x}, '{INT_TEXT}') and try_cast({x} as integer) is not null))"
            return x, ok, "are not whole numbers (type int)"
        if target == "float":
            if col.nullable:  # "NaN" is a missing value here, as a NaN stored as a number is
                x = f"(case when lower({x}) = 'nan' then null else {x} end)"
            ok = f"({x} is null or (regexp_full_match({x}, '{FLOAT_TEXT}') and try_cast({x} as double) is not null))"
            return x, ok, wrong
        if target == "bool":
            ok = f"({x} is null or lower({x}) in {BOOL_TEXT!r})"
            return f"lower({x})", ok, "are not booleans (true/false/1/0)"
        if target == "date":
            ok = f"({x} is null or (regexp_full_match({x}, '{DATE_TEXT}') and try_cast(left({x}, 10) as date) is not null))"
            return f"left({x}, 10)", ok, "are not dates (YYYY-MM-DD)"
    if kind == "int":
        if target == "int":
            return raw_ref, f"({raw_ref} is null or try_cast({raw_ref} as integer) is not null)", "are out of the range of type int"
        if target == "float":
            return raw_ref, "true", wrong
        if target == "string":
            return f"cast({raw_ref} as varchar)", "true", wrong
        if target == "bool":
            return raw_ref, f"({raw_ref} is null or {raw_ref} in (0, 1))", "are not booleans (0/1)"
    if kind == "float":
        d = f"cast({raw_ref} as double)"
        whole = f"(isfinite({d}) and {d} = trunc({d}))"
        if target == "int":
            ok = f"({raw_ref} is null or ({whole} and {d} between {INT32_MIN} and {INT32_MAX}))"
            return raw_ref, ok, "are not whole numbers (type int)"
        if target == "float":
            if col.nullable:
                # A NaN is how pandas, NumPy and other tools hold a missing value: read as null, as
                # SAS's missing value is (docs/ASSUMPTIONS.md B15). Infinity stays an error.
                return (f"(case when isnan({d}) then null else {raw_ref} end)",
                        f"({raw_ref} is null or isnan({d}) or isfinite({d}))", "are infinite, not numbers (type float)")  # fmt: skip
            return raw_ref, f"({raw_ref} is null or isfinite({d}))", "are not finite numbers (type float)"
        if target == "string":
            ok = f"({raw_ref} is null or ({whole} and abs({d}) < 1e18))"
            return f"cast(cast({raw_ref} as bigint) as varchar)", ok, "are not whole numbers (a code of type string stored as a number)"
        if target == "bool":
            return raw_ref, f"({raw_ref} is null or {d} in (0, 1))", "are not booleans (0/1)"
    if kind == "bool" and target == "bool":
        return raw_ref, "true", wrong
    if kind == "timestamp" and target == "date" and "TIME ZONE" in duck_type.upper():
        # An instant, not a calendar date: its Danish date, whatever the machine's time zone (a
        # plain cast takes the session's zone, so the same file gave a decision on 31 December
        # 23:30 UTC to 2022 on one machine and to 2023 on a machine set to Danish time).
        return f"cast(timezone('{DATE_ZONE}', {raw_ref}) as date)", "true", wrong
    if kind in ("date", "timestamp") and target == "date":
        return f"cast({raw_ref} as date)", "true", wrong
    # Any other combination: the column has the wrong type; every non-null value is an error.
    return f"cast(null as {DUCKDB_TYPES[target]})", f"{raw_ref} is null", wrong


def exact_type(col: Column, duck_type: str) -> bool:
    """The file stores the column in its contract type itself (a Parquet INTEGER for an int, ...):
    the value is loaded unchanged, so its checks can run on the loaded column instead of in a
    pass over the file before the load."""
    return duck_type.upper() == DUCKDB_TYPES[col.type]


def loaded_rules(col: Column) -> str:
    """The validity predicate of an exactly typed column, over the loaded column of that name."""
    ref = quote_ident(col.name)
    return f"({ref} is null or isfinite({ref}))" if col.type == "float" else "true"


@dataclass
class Source:
    """One input file exposed to DuckDB: `view` holds the contract columns, normalised."""

    path: Path
    table: Table
    year: int | None
    raw_view: str
    view: str
    raw_types: dict[str, str] = field(default_factory=dict)  # contract column -> stored type
    rows: int = 0
    # Checks left for the loaded rows (open_source(defer_exact=True), every column exactly typed):
    # (column, validity predicate over the loaded column, what is wrong). `loaded_checks` gives them
    # as aggregates over the loaded rows, `raise_loaded_failures` reports them.
    deferred: list[tuple[Column, str, str]] = field(default_factory=list)
    _registered: list[str] = field(default_factory=list)

    def error(self, problem: str, column: str | None = None) -> InputError:
        return InputError(problem, file=str(self.path), column=column, year=self.year)


# How each kind of input file is read, for an error saying it cannot be.
FORMAT_NAMES = {".parquet": "Parquet", ".csv": "CSV (UTF-8 with a header row)", ".sas7bdat": "a SAS dataset"}
# RFC 4180 quoting, given rather than sniffed: DuckDB infers the dialect from a sample of the first
# rows, and a file quoting no field there kept the quotes of later fields inside their values (a
# quoted pnr then matched no other register). The delimiter is still inferred, so a semicolon file
# (Danish Excel) reads too.
CSV_OPTIONS = {"all_varchar": True, "encoding": "utf-8", "quotechar": '"', "escapechar": '"'}


def _read_error(path: Path, year: int | None, exc: BaseException) -> InputError:
    # The exception class, and from DuckDB's message only the line number and whether the bytes
    # are not UTF-8: the message itself quotes the offending line of the file (a pnr, an income).
    what = FORMAT_NAMES.get(Path(path).suffix.lower(), "a table")
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f" at line {line.group(1)}" if line else ""
    if "Invalid unicode" in text or "not utf-8 encoded" in text:
        return InputError(f"cannot read the file as {what}: not UTF-8{where} (save it as UTF-8)", file=str(path), year=year)
    return InputError(f"cannot read the file as {what}{where} ({exc.__class__.__name__})", file=str(path), year=year)


def source_read_error(src: Source, exc: BaseException) -> InputError:
    """A DuckDB error raised while reading `src`'s file (CSV rows are read, and checked, only when
    a query reaches them): one line naming file and year, no value of the file."""
    return _read_error(src.path, src.year, exc)


def _stored_names(con: duckdb.DuckDBPyConnection, path: Path, names: list[str]) -> list[str]:
    """The column names as the file stores them. DuckDB's own differ when two differ only in case
    (`Pnr`, `PNR` become `Pnr`, `PNR_1`), and then one of them would be taken without a word."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if suffix == ".csv":
            rel = con.read_csv(str(path), header=False, **CSV_OPTIONS)
            first = rel.limit(1).fetchall()
            return [v for v in first[0] if v is not None] if first else names
    except (duckdb.Error, OSError, ValueError):
        pass  # read as before; a file that cannot be read fails where it is read
    return names


def _no_case_twins(stored: list[str], table: Table, path: Path, year: int | None) -> None:
    """An InputError when two columns of the file are named like one contract column but for case."""
    for col in table.columns:
        twins = [n for n in stored if n.strip().lower() == col.name.lower()]
        if len(twins) > 1:
            raise InputError(f"{len(twins)} columns are named {col.name} but for case ({', '.join(twins)}): keep one",
                             file=str(path), column=col.name, year=year)  # fmt: skip


def _match_columns(available: list[str], table: Table, path: Path, year: int | None) -> dict[str, str]:
    """Contract column -> column name in the file (exact match first, then case-insensitive)."""
    by_lower: dict[str, list[str]] = {}
    for name in available:
        by_lower.setdefault(name.lower(), []).append(name)
    out = {}
    for col in table.columns:
        if col.name in available:
            out[col.name] = col.name
        elif len(by_lower.get(col.name.lower(), [])) == 1:
            out[col.name] = by_lower[col.name.lower()][0]
        else:
            raise InputError("required column is missing", file=str(path), column=col.name, year=year)
    return out


def _register_raw(con: duckdb.DuckDBPyConnection, path: Path, year: int | None, name: str) -> None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            rel = con.read_parquet(str(path))
            rel.to_view(name, replace=True)
            # Touch the footer/schema and row count now so a truncated file fails here.
            con.execute(f"select count(*) from {name}").fetchall()
        except duckdb.Error as exc:
            raise _read_error(path, year, exc) from None
    elif suffix == ".csv":
        try:
            rel = con.read_csv(str(path), header=True, **CSV_OPTIONS)
        except duckdb.Error as exc:
            raise _read_error(path, year, exc) from None
        only = rel.columns[0] if len(rel.columns) == 1 else ""
        delim = next((d for d in (",", ";") if d in only), None)
        if delim is not None:
            # DuckDB found no delimiter that splits every row alike and read each line as one field:
            # the header splits on it, so a row does not (an unclosed quote, a row of other fields)
            raise InputError(
                f"cannot read the file as {FORMAT_NAMES['.csv']}: its header splits on {delim!r} but not "
                "every row does (an unclosed quote?)", file=str(path), year=year)  # fmt: skip
        try:
            rel.to_view(name, replace=True)
        except duckdb.Error as exc:
            raise _read_error(path, year, exc) from None
    elif suffix == ".sas7bdat":
        import pyreadstat  # lazily: only SAS extracts need it

        try:
            _, meta = pyreadstat.read_sas7bdat(str(path), metadataonly=True)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file
            raise _read_error(path, year, exc) from None
        raise _NeedColumns(list(meta.column_names))
    else:
        raise InputError(f"unsupported file type {suffix!r} (use .parquet, .csv or .sas7bdat)", file=str(path), year=year)


class _NeedColumns(Exception):
    """SAS: read only the contract's columns, which needs the file's column list first."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns


def _register_sas(con, path: Path, year: int | None, name: str, usecols: list[str]) -> None:
    import pyreadstat

    try:
        df, _ = pyreadstat.read_sas7bdat(str(path), usecols=usecols, output_format="polars")
    except Exception as exc:  # noqa: BLE001
        raise _read_error(path, year, exc) from None
    con.register(name, df.to_arrow())


def open_source(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, year: int | None = None, *, defer_exact: bool = False
) -> Source:
    """Expose `path` (a file of `table`) to `con` as views; check columns and types.

    Raises InputError for a missing or unreadable file, a missing column, values that are
    not of the contract type, or empty values in a required column. Call `close_source` after.

    With `defer_exact`, a file whose every column is stored in its contract type (the usual
    Parquet extract) is not read here: its value checks are left in `Source.deferred` for
    the loaded rows (`loaded_checks`), which saves a whole pass over the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file is missing", file=str(path), year=year)
    n = next(_counter)
    tag = re.sub(r"[^a-z0-9_]", "_", table.name.lower())
    src = Source(path, table, year, raw_view=f"_raw_{tag}_{n}", view=f"_src_{tag}_{n}")
    try:
        try:
            _register_raw(con, path, year, src.raw_view)
            src._registered.append(src.raw_view)
            raw_cols = con.execute(f"select * from {src.raw_view} limit 0").description
            names = [d[0] for d in raw_cols]
            _no_case_twins(_stored_names(con, path, names), table, path, year)
            mapping = _match_columns(names, table, path, year)
        except _NeedColumns as sas:
            mapping = _match_columns(sas.columns, table, path, year)
            _register_sas(con, path, year, src.raw_view, list(dict.fromkeys(mapping.values())))
            src._registered.append(src.raw_view)
        types = dict(
            con.execute(
                "select column_name, column_type from (describe select * from query_table($v))",
                {"v": src.raw_view},
            ).fetchall()
        )
        select, checks = [], []
        for col in table.columns:
            raw_name = mapping[col.name]
            ref = quote_ident(raw_name)
            src.raw_types[col.name] = types[raw_name]
            norm, valid, wrong = column_rules(col, ref, types[raw_name])
            select.append(f"{norm} as {quote_ident(col.name)}")
            checks.append((col, norm, valid, wrong))
        con.execute(f"create or replace temp view {src.view} as select {', '.join(select)} from {src.raw_view}")
        src._registered.append(src.view)
        if defer_exact and all(exact_type(col, src.raw_types[col.name]) for col in table.columns):
            src.deferred = [(col, loaded_rules(col), wrong) for col, _, _, wrong in checks]
        else:
            check_types(con, src, checks)
        return src
    except BaseException:
        close_source(con, src)
        raise


def check_types(con: duckdb.DuckDBPyConnection, src: Source, checks: list[tuple[Column, str, str, str]]) -> None:
    """One pass over the file: rows, and per column the count of bad and of missing values."""
    aggs = ["count(*)"]
    for col, norm, valid, _ in checks:
        aggs.append(f"count(*) filter (where not ({valid}))")
        aggs.append(f"count(*) filter (where ({valid}) and ({norm}) is null)" if not col.nullable else "0")
    try:
        row = con.execute(f"select {', '.join(aggs)} from {src.raw_view}").fetchall()[0]
    except duckdb.Error as exc:
        raise source_read_error(src, exc) from None
    src.rows = int(row[0])
    for i, (col, norm, _, wrong) in enumerate(checks):
        bad, missing = int(row[1 + 2 * i]), int(row[2 + 2 * i])
        if bad:
            raise src.error(f"{bad} of {src.rows} rows {wrong}{_decimal_comma_hint(con, src, col, norm)}", column=col.name)
        if missing:
            raise src.error(f"{missing} of {src.rows} rows are empty (the column is required)", column=col.name)


# A number written with a decimal comma, as Danish Excel saves a semicolon CSV: not read as a number
# (1.234 and 1,234 are ambiguous), but named in the error.
DECIMAL_COMMA_TEXT = r"[+-]?[0-9]+,[0-9]+"


def _decimal_comma_hint(con: duckdb.DuckDBPyConnection, src: Source, col: Column, norm: str) -> str:
    """For a number column stored as text that failed its check: how many of its values are written
    with a decimal comma (a count; no value is shown)."""
    if col.type not in ("int", "float") or _kind(src.raw_types.get(col.name, "")) != "text":
        return ""
    n = con.execute(
        f"select count(*) filter (where regexp_full_match({norm}, $pattern)) from {src.raw_view}",
        {"pattern": DECIMAL_COMMA_TEXT},
    ).fetchall()[0][0]
    return f"; {n} of them are written with a decimal comma (write numbers with a decimal point)" if n else ""


def loaded_checks(src: Source) -> dict[str, str]:
    """The deferred checks of `src` as aggregates over its loaded rows (name -> SQL), to be
    computed in one aggregate with other measures of the same rows (pipeline.ingest) and read by
    `raise_loaded_failures`."""
    aggs = {}
    for i, (col, valid, _) in enumerate(src.deferred):
        aggs[f"__bad_{i}"] = f"count(*) filter (where not ({valid}))"
        if not col.nullable:
            aggs[f"__missing_{i}"] = f"count(*) filter (where {quote_ident(col.name)} is null)"
    return aggs


def raise_loaded_failures(src: Source, rows: int, values: dict) -> None:
    """Raise the first failure of `src`'s deferred checks, as `check_types` would: columns in
    contract order, a value of the wrong type before an empty required value. `values` holds the
    aggregates of `loaded_checks` over the `rows` loaded rows."""
    src.rows = int(rows)
    for i, (col, _, wrong) in enumerate(src.deferred):
        bad, missing = int(values.get(f"__bad_{i}") or 0), int(values.get(f"__missing_{i}") or 0)
        if bad:
            raise src.error(f"{bad} of {src.rows} rows {wrong}", column=col.name)
        if missing:
            raise src.error(f"{missing} of {src.rows} rows are empty (the column is required)", column=col.name)


def close_source(con: duckdb.DuckDBPyConnection, src: Source) -> None:
    """Drop the views of `src` (they are temporary; this keeps a long connection tidy)."""
    for name in reversed(src._registered):
        try:
            con.execute(f"drop view if exists {name}")
        except duckdb.Error:
            pass
        try:
            con.unregister(name)
        except (duckdb.Error, KeyError):
            pass
    src._registered.clear()


def typed_select(src: Source) -> str:
    """A SELECT of the source view cast to the contract types (for tests and ad-hoc reads)."""
    cols = ", ".join(
        f"cast({quote_ident(c.name)} as {DUCKDB_TYPES[c.type]}) as {quote_ident(c.name)}" for c in src.table.columns
    )
    return f"select {cols} from {src.view}"


def read_typed(con: duckdb.DuckDBPyConnection, path: Path, table: Table, year: int | None = None) -> list[tuple]:
    """All rows of `path` as Python tuples in the contract's types (small files: tests, tools)."""
    src = open_source(con, path, table, year)
    try:
        return con.execute(typed_select(src)).fetchall()
    finally:
        close_source(con, src)
