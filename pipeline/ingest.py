"""Ingestion: validate the input files, then load them into the warehouse's staging tables.

Public functions (each takes an open DuckDB connection to the warehouse):

- `ingest_register(con, data_dir, table, year) -> dict`: one register extract -> `stg_<table>`
- `ingest_registers(con, data_dir, tables, year) -> dict`: several extracts of one year, loaded
  side by side (two at a time)
- `load_boundaries(con, boundaries_dir) -> dict`: areas.csv + parcels.csv -> `stg_areas`,
  `stg_parcels`, `meta_boundaries`
- `load_history(con, data_dir) -> dict`: history/lists.csv (optional) -> `stg_history`
- `load_reference(con, data_dir) -> dict`: the code lists -> `ref_<name>`

Every check is an aggregate in DuckDB (counts of offending rows) and blocks the load: on any
failure an `InputError` naming file, column and year is raised and the warehouse is left
exactly as it was (the load runs in one transaction that is rolled back; with
`ingest_registers`, each table's load is its own transaction). Messages and the
returned metadata hold counts only, never a value from a person-level column.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from pipeline import reference as reference_mod
from pipeline.contract import BOUNDARY_FILES, HISTORY, HISTORY_LISTS, REGISTERS, find_register_file
from pipeline.errors import InputError
from pipeline.readers import (
    Source,
    close_source,
    loaded_checks,
    open_source,
    raise_loaded_failures,
    source_kind,
    source_read_error,
)
from pipeline.warehouse import not_in_code_list, replace_partition, sql_text, table_exists

# ---------------------------------------------------------------------------------------------
# The checks, as data. Names are the Dagster asset-check names (assets/ingestion).

COLUMNS_AND_TYPES = "columns_and_types"
UNIQUE_KEY = "unique_key"
CODES_IN_REFERENCE = "codes_in_reference"
AGE_RANGE = "age_range"
DATES_IN_YEAR = "dates_in_year"


@dataclass(frozen=True)
class RowCheck:
    """Rows counted by the quality profile's `metric` (pipeline.quality.profiles.register_metrics,
    an aggregate over the typed staging rows) fail `check`."""

    check: str
    column: str
    metric: str
    problem: str  # completes "N of M rows ..."


ROW_CHECKS: dict[str, tuple[RowCheck, ...]] = {
    "bef": (
        RowCheck(CODES_IN_REFERENCE, "kom", "unknown_kom",
                 "have a municipality code that is not in the code list municipalities"),
        RowCheck(CODES_IN_REFERENCE, "opr_land", "unknown_opr_land",
                 "have a country code that is not in the code list countries"),
        RowCheck(CODES_IN_REFERENCE, "koen", "invalid_koen", "have a sex code outside 1-2"),
        RowCheck(CODES_IN_REFERENCE, "ie_type", "invalid_ie_type", "have an origin type outside 1-3"),
        RowCheck(AGE_RANGE, "alder", "invalid_alder", "have an age outside 0-125"),
    ),
    "akm": (
        RowCheck(CODES_IN_REFERENCE, "socio13", "unknown_socio13",
                 "have a SOCIO13 code that is not in the code list socio13"),
    ),
    "udda": (
        RowCheck(CODES_IN_REFERENCE, "hfaudd", "unknown_hfaudd",
                 "have an education code that is not in the code list hfaudd"),
        RowCheck(CODES_IN_REFERENCE, "hfaudd_kilde", "unknown_hfaudd_kilde",
                 "have an education source that is not in the code list education_sources"),
    ),
    "ind": (),
    "kraf": (
        RowCheck(CODES_IN_REFERENCE, "afg_afgtyp", "unknown_afg_afgtyp",
                 "have a decision type that is not in the code list decision_types"),
        RowCheck(CODES_IN_REFERENCE, "afg_ger7", "invalid_afg_ger7", "have a crime code that is not a 7-digit code"),
        RowCheck(DATES_IN_YEAR, "afg_dato", "afg_dato_outside_year", "have a decision date outside the extract's year"),
    ),
    "adresser": (
        RowCheck(CODES_IN_REFERENCE, "kom", "unknown_kom",
                 "have a municipality code that is not in the code list municipalities"),
    ),
}

# The order in which failures are reported (the first failing one is raised).
CHECK_ORDER = (COLUMNS_AND_TYPES, UNIQUE_KEY, CODES_IN_REFERENCE, AGE_RANGE, DATES_IN_YEAR)


def register_check_names(table: str) -> list[str]:
    """The blocking checks that apply to register `table`, in reporting order."""
    names = {COLUMNS_AND_TYPES} | {c.check for c in ROW_CHECKS[table]}
    if REGISTERS[table].key:
        names.add(UNIQUE_KEY)
    return [n for n in CHECK_ORDER if n in names]


# ---------------------------------------------------------------------------------------------
# Metadata tables


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def boundary_version(boundaries_dir: Path) -> str:
    """The boundary version: SHA-256 over areas.csv then parcels.csv (their bytes, in order)."""
    h = hashlib.sha256()
    for name in ("areas.csv", "parcels.csv"):
        path = Path(boundaries_dir) / name
        if not path.is_file():
            raise InputError("boundary file is missing", file=str(path))
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def ensure_meta_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table if not exists meta_ingest ("
        " table_name varchar, year integer, source_path varchar, sha256 varchar,"
        " rows bigint, ingested_at timestamp)"
    )
    con.execute(
        "create table if not exists meta_boundaries (version varchar, path varchar, areas bigint, parcels bigint)"
    )
    con.execute(
        "create table if not exists meta_ingest_checks ("
        " table_name varchar, year integer, sha256 varchar, check_name varchar, failed_rows bigint)"
    )
    con.execute(
        "create table if not exists meta_register_profile ("
        " table_name varchar, year integer, sha256 varchar, profile varchar)"
    )
    con.execute(
        "create table if not exists meta_key_storage ("
        " table_name varchar, year integer, sha256 varchar, column_name varchar, stored_as varchar)"
    )


def _record_ingest(con, table_name: str, year: int | None, path: Path, sha: str, rows: int) -> None:
    con.execute(
        "delete from meta_ingest where table_name = $t and year is not distinct from $y",
        {"t": table_name, "y": year},
    )
    con.execute(
        "insert into meta_ingest values ($t, $y, $p, $s, $r, $at)",
        {
            "t": table_name,
            "y": year,
            "p": str(path),
            "s": sha,
            "r": rows,
            "at": datetime.now(timezone.utc).replace(tzinfo=None),
        },
    )


# The columns that join one register to another: how each extract stored them is recorded, so that
# a join of an extract storing one as numbers with one storing it as zero-padded text is an error.
KEY_COLUMNS = ("pnr", "adresse_id")


def _record_key_storage(con, table_name: str, year: int, sha: str, raw_types: dict[str, str]) -> None:
    """How the loaded file stored its key columns: "text" or "number" (an integer or a float, as
    SAS stores every number), by its column types (pipeline.readers.source_kind)."""
    con.execute("delete from meta_key_storage where table_name = $t and year = $y", {"t": table_name, "y": year})
    for column in KEY_COLUMNS:
        if column in raw_types:
            con.execute(
                "insert into meta_key_storage values ($t, $y, $s, $c, $k)",
                {"t": table_name, "y": year, "s": sha, "c": column, "k": source_kind(raw_types[column])},
            )


def check_key_storage(con: duckdb.DuckDBPyConnection, column: str, extracts: list[tuple[str, int]]) -> None:
    """Raise InputError when the loaded extracts `extracts` (table, year), which a calculation joins
    on `column`, store it differently and the join would lose rows: one stores it as numbers, which
    keep no leading zeros (a number 1234 is read as the text "1234"), and another as text with
    values that start with 0 ("01234" then matches nothing). The error names the extract that
    stores numbers, and says how many values of the text extract start with 0 (a count, no value).

    Costs nothing when the extracts store the column alike (the usual case); extracts loaded
    before this record was kept (no row in meta_key_storage) are not compared."""
    if not (table_exists(con, "meta_key_storage") and table_exists(con, "meta_ingest")):
        return
    stored = {
        (t, y): (kind, path)
        for t, y, kind, path in con.execute(
            "select k.table_name, k.year, k.stored_as, i.source_path from meta_key_storage k"
            " join meta_ingest i on i.table_name = k.table_name and i.year = k.year and i.sha256 = k.sha256"
            " where k.column_name = $c",
            {"c": column},
        ).fetchall()
    }
    present = [(e, stored[e]) for e in extracts if e in stored]
    numbers = [(e, path) for e, (kind, path) in present if kind == "number"]
    texts = [(e, path) for e, (kind, path) in present if kind == "text"]
    if not (numbers and texts):
        return
    for (table, year), path in texts:
        if table not in REGISTERS:
            continue
        padded, total = con.execute(
            f"select count(*) filter (where {column} like '0_%'), count({column}) from stg_{table} where year = $y",
            {"y": year},
        ).fetchall()[0]
        if padded:
            (n_table, n_year), n_path = numbers[0]
            what = "persons" if column == "pnr" else "addresses"
            raise InputError(
                f"{column} is stored as numbers here, which keep no leading zeros, and as text in {path} "
                f"({table} {year}), where {padded} of {total} values start with 0: those {what} would match "
                f"no row of this file; store {column} as text in every extract",
                file=n_path, column=column, year=n_year,
            )  # fmt: skip


def _record_checks(con, table_name: str, year: int, sha: str, checks: dict[str, dict]) -> None:
    """What the blocking checks measured on the loaded file (counts of failing rows), so the
    data-quality suites can report them without scanning the table again."""
    con.execute("delete from meta_ingest_checks where table_name = $t and year = $y", {"t": table_name, "y": year})
    for name, r in sorted(checks.items()):
        con.execute(
            "insert into meta_ingest_checks values ($t, $y, $s, $c, $n)",
            {"t": table_name, "y": year, "s": sha, "c": name, "n": int(r["failed_rows"])},
        )


def _scalar(con, sql: str, params: dict[str, Any] | None = None) -> Any:
    return con.execute(sql, params or {}).fetchall()[0][0]


class _Transaction:
    """`with _Transaction(con):` commits on success, rolls back on any exception."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self):
        self.con.execute("begin transaction")
        return self.con

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.con.execute("commit")
        else:
            try:
                self.con.execute("rollback")
            except duckdb.Error:
                pass
        return False


def _replace_year(con, table: str, year: int, select_sql: str, params: dict[str, Any]) -> int:
    """Inside the caller's transaction: replace the rows of `table` for `year` by `select_sql`."""
    return replace_partition(con, table, {"year": year}, select_sql, params, own_transaction=False)


def _fail(problem: str, *, check: str, file: Path, column: str | None, year: int | None) -> InputError:
    err = InputError(problem, file=str(file), column=column, year=year)
    err.check = check  # which asset check failed (for the Dagster layer)
    return err


# ---------------------------------------------------------------------------------------------
# Code lists


def _reference_loaded(con) -> bool:
    names = {r[0] for r in con.execute("select table_name from duckdb_tables() where table_name like 'ref_%'").fetchall()}
    return all(f"ref_{name}" in names for name in reference_mod.REFERENCE_TABLES)


def load_reference(con: duckdb.DuckDBPyConnection, data_dir: Path | None) -> dict:
    """Load every code list into `ref_<name>` (DATA/reference/<name>.csv overrides the package's).

    Skipped ("unchanged") when every list has the SHA-256 recorded at its last load.
    Returns {"tables": {name: rows}, "sha256": {name: sha}, "overrides": [names from DATA], "status"}.
    """
    files = reference_mod.reference_files(Path(data_dir) if data_dir is not None else None)
    frames = {f.name: reference_mod.load_reference(f.name, f.path) for f in files}
    ensure_meta_tables(con)
    loaded = dict(
        con.execute("select table_name, sha256 from meta_ingest where table_name like 'ref_%' and year is null").fetchall()
    )
    status = "unchanged"
    if not _reference_loaded(con) or any(loaded.get(f"ref_{f.name}") != f.sha256 for f in files):
        status = "loaded"
        _write_reference(con, files, frames)
    return {
        "tables": {f.name: frames[f.name].height for f in files},
        "sha256": {f.name: f.sha256 for f in files},
        "overrides": [f.name for f in files if f.path.parent != reference_mod.PACKAGE_DIR],
        "status": status,
    }


def _write_reference(con, files, frames) -> None:
    with _Transaction(con):
        for f in files:
            tmp = f"_ref_{f.name}_load"
            con.register(tmp, frames[f.name].to_arrow())
            try:
                con.execute(f"create or replace table ref_{f.name} as select * from {tmp}")
            finally:
                con.unregister(tmp)
            _record_ingest(con, f"ref_{f.name}", None, f.path, f.sha256, frames[f.name].height)


# ---------------------------------------------------------------------------------------------
# Registers


def _unchanged(con, table: str, year: int, sha: str) -> int | None:
    """Rows of the earlier load when the same file (sha256) is already in stg_<table> for year."""
    prev = con.execute(
        "select sha256, rows from meta_ingest where table_name = $t and year = $y", {"t": table, "y": year}
    ).fetchall()
    if not prev or prev[0][0] != sha or not table_exists(con, f"stg_{table}"):
        return None
    loaded = _scalar(con, f"select count(*) from stg_{table} where year = $y", {"y": year})
    return int(loaded) if loaded == prev[0][1] else None


def ingested_sha256(con: duckdb.DuckDBPyConnection, table: str, year: int | None) -> str | None:
    """The SHA-256 of the file loaded for `table` and `year` (None: a code list), by meta_ingest;
    None when nothing is loaded."""
    if not table_exists(con, "meta_ingest"):
        return None
    rows = con.execute(
        "select sha256 from meta_ingest where table_name = $t and year is not distinct from $y", {"t": table, "y": year}
    ).fetchall()
    return rows[0][0] if rows else None


def ingested_inputs_key(con: duckdb.DuckDBPyConnection, inputs: list[tuple[str, int | None]]) -> str | None:
    """The SHA-256 of every loaded file behind `inputs` (table, year), joined: the key under which
    a result computed from them is kept. None when one of them is not loaded."""
    shas = [ingested_sha256(con, table, year) for table, year in inputs]
    return None if any(s is None for s in shas) else ",".join(shas)


def register_files_sha256(data_dir: Path, wanted: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The SHA-256 of the register extracts `wanted` (table, year) that exist, hashed two at a
    time (hashlib releases the GIL: hundreds of MB at national scale)."""
    from concurrent.futures import ThreadPoolExecutor

    paths = {}
    for table, year in wanted:
        try:
            paths[(table, year)] = find_register_file(Path(data_dir), table, year)
        except InputError:
            pass
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(file_sha256, paths.values())))


def loaded_unchanged(con: duckdb.DuckDBPyConnection, table: str, year: int, sha: str) -> bool:
    """The extract of `table` for `year`, whose file now has SHA-256 `sha` (register_files_sha256),
    is in the warehouse exactly as that file (same SHA-256, every row): loading it again would
    change nothing."""
    return table_exists(con, "meta_ingest") and _unchanged(con, table, year, sha) is not None


def _assert_scanned(check: str, table: str, year: int, scanned: int, rows: int) -> None:
    """A check that did not see every loaded row must not pass (a guard against storage bugs such
    as the one described in pipeline.warehouse.create_table_like)."""
    if scanned != rows:
        raise RuntimeError(
            f"internal error: the check {check} of stg_{table} for {year} saw {scanned} of the {rows} rows loaded"
        )


def keys_strictly_increasing(con: duckdb.DuckDBPyConnection, table: str, column: str, year: int, rows: int,
                             batch_rows: int = 1 << 20) -> bool:  # fmt: skip
    """Whether `column` of `table`'s rows for `year`, in the order they were loaded (the file's),
    is strictly increasing: then no value occurs twice. Register extracts usually come sorted by
    person (SAS sorts them for its merges), and this streaming comparison of neighbours costs a
    fraction of counting distinct values in a hash table (about 0.15 s instead of 1 s for six
    million persons). False (not sorted, a null, or not exactly `rows` rows seen) says nothing:
    the caller then counts exactly.
    The values stay in this process; nothing of them is kept or reported."""
    import pyarrow.compute as pc

    reader = con.sql(
        f"select {column} from {table} where year = $year", params={"year": year}
    ).to_arrow_reader(batch_rows)
    last = None
    seen = 0
    for batch in reader:
        values = batch.column(0)
        seen += len(values)
        if len(values) == 0:
            continue
        if values.null_count:
            return False
        if last is not None and not values[0].as_py() > last:
            return False
        if len(values) > 1 and not pc.all(pc.greater(values[1:], values[:-1])).as_py():
            return False
        last = values[-1].as_py()
    return seen == rows


def _register_checks(con, table: str, year: int, rows: int, path: Path,
                     src: Source) -> tuple[dict[str, dict], dict[str, Any]]:  # fmt: skip
    """Run the blocking checks on the freshly inserted rows of stg_<table> for `year`.

    One aggregate over the rows gives the blocking checks, the data-quality profile of the table
    (pipeline.quality.profiles.register_metrics), so the quality suite does not scan the table
    again, and the type checks the reader left for the loaded rows of `src` (an exactly typed
    file: pipeline.readers.loaded_checks), which fail first, as they would have before the load.
    Returns ({check: {"passed": bool, "failed_rows": n}}, profile); raises the first failure.
    """
    from pipeline.quality.profiles import register_metrics

    spec = REGISTERS[table]
    metrics = register_metrics(con, table)
    # (duplicate_<key> is the unique-key check's count of rows sharing a key, measured below)
    aggs = {"__rows": "count(*)", **{k: v for k, v in metrics.items() if not k.startswith("duplicate_")}}
    deferred = loaded_checks(src)  # none when the reader checked every value before the load
    aggs.update(deferred)
    keys = ", ".join(spec.key)
    # keys in strictly increasing order are all distinct (exact); otherwise every key distinct
    # means no duplicates (exact), and when they are not, the duplicates are counted below
    sorted_keys = len(spec.key) == 1 and keys_strictly_increasing(con, f"stg_{table}", spec.key[0], year, rows)
    if spec.key and not sorted_keys:
        aggs["__distinct_keys"] = f"count(distinct {keys if len(spec.key) == 1 else f'({keys})'})"
    cur = con.execute(
        "select " + ", ".join(f"{expr} as {name}" for name, expr in aggs.items()) + f" from stg_{table} t where t.year = $year",
        {"year": year},
    )
    row = dict(zip([d[0] for d in cur.description], cur.fetchall()[0]))
    _assert_scanned(COLUMNS_AND_TYPES if deferred else CODES_IN_REFERENCE, table, year, int(row["__rows"]), rows)
    raise_loaded_failures(src, rows, row)  # columns and types: reported before any other check
    results: dict[str, dict] = {COLUMNS_AND_TYPES: {"passed": True, "failed_rows": 0}}
    failures: list[tuple[str, str, int, str]] = []  # (check, column, n, problem)

    if spec.key:
        dup_rows = 0
        if not sorted_keys and int(row["__distinct_keys"]) != rows:
            dup_rows = int(
                _scalar(
                    con,
                    f"select coalesce(sum(n), 0) from (select count(*) as n from stg_{table} "
                    f"where year = $y group by {keys} having count(*) > 1)",
                    {"y": year},
                )
            )
        results[UNIQUE_KEY] = {"passed": dup_rows == 0, "failed_rows": dup_rows}
        for k in spec.key:
            row[f"duplicate_{k}"] = dup_rows
        if dup_rows:
            failures.append((UNIQUE_KEY, spec.key[0], dup_rows,
                             f"{dup_rows} of {rows} rows share their {keys} with another row ({keys} must be unique)"))

    for c in ROW_CHECKS[table]:
        n = int(row[c.metric])
        r = results.setdefault(c.check, {"passed": True, "failed_rows": 0})
        r["failed_rows"] += n
        r["passed"] = r["failed_rows"] == 0
        if n:
            failures.append((c.check, c.column, n, f"{n} of {rows} rows {c.problem}"))

    if failures:
        failures.sort(key=lambda f: CHECK_ORDER.index(f[0]))
        check, column, _, problem = failures[0]
        raise _fail(problem, check=check, file=path, column=column, year=year)
    profile = {name: (0 if row[name] is None else row[name]) for name in metrics}
    return results, profile


def _record_profile(con, table_name: str, year: int, sha: str, profile: dict[str, Any]) -> None:
    """The quality profile measured at the load (pipeline.quality.profiles.register_frame reads it
    while the same file stays loaded)."""
    con.execute("delete from meta_register_profile where table_name = $t and year = $y", {"t": table_name, "y": year})
    con.execute(
        "insert into meta_register_profile values ($t, $y, $s, $p)",
        {"t": table_name, "y": year, "s": sha, "p": json.dumps(profile, sort_keys=True, default=float)},
    )


def ingest_register(con: duckdb.DuckDBPyConnection, data_dir: Path, table: str, year: int) -> dict:
    """Validate and load `DATA/registers/<table>_<year>.(parquet|csv|sas7bdat)` into stg_<table>.

    Replaces the year's rows in one transaction and records meta_ingest. When the same file
    (same SHA-256) is already loaded for that table and year, nothing is read or written and
    status is "unchanged". Returns {"table", "year", "source_path", "sha256", "rows", "status",
    "checks": {check: {"passed", "failed_rows"}}}. Raises InputError (file, column, year) and
    leaves the warehouse unchanged on any failure.
    """
    if table not in REGISTERS:
        raise InputError(f"unknown register table {table!r} (one of {', '.join(REGISTERS)})", year=year)
    spec = REGISTERS[table]
    path = find_register_file(Path(data_dir), table, year)
    sha = file_sha256(path)
    ensure_meta_tables(con)
    base = {"table": table, "year": year, "source_path": str(path), "sha256": sha}

    prev_rows = _unchanged(con, table, year, sha)
    if prev_rows is not None:
        checks = {name: {"passed": True, "failed_rows": 0} for name in register_check_names(table)}
        return {**base, "rows": prev_rows, "status": "unchanged", "checks": checks}

    if not _reference_loaded(con):
        load_reference(con, data_dir)

    # columns present, types castable, required not empty (for an exactly typed file: on the loaded rows)
    src = open_source(con, path, spec, year, defer_exact=True)
    try:
        with _Transaction(con):
            try:
                rows = _replace_year(con, f"stg_{table}", year, sql_text(f"stg_{table}"), {"source": src.view, "year": year})
            except duckdb.InvalidInputException as exc:  # a row of the file that cannot be read
                raise source_read_error(src, exc) from None
            # the type checks left for the loaded rows run in the checks' one aggregate
            checks, profile = _register_checks(con, table, year, rows, path, src)
            _record_ingest(con, table, year, path, sha, rows)
            _record_checks(con, table, year, sha, checks)
            _record_profile(con, table, year, sha, profile)
            _record_key_storage(con, table, year, sha, src.raw_types)
    finally:
        close_source(con, src)
    return {**base, "rows": rows, "status": "loaded", "checks": checks}


# Extracts of one year loaded side by side: two, the machine's cores. Each load runs on DuckDB's
# own threads too, but spends part of its time where one core idles (hashing the file, the
# sortedness scan of its key, Python between statements, commits); a second load fills those
# gaps (benchmarks/bench_ingest.py --side-by-side compares).
INGEST_THREADS = 2


def ingest_registers(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    tables: list[str],
    year: int,
    *,
    threads: int = INGEST_THREADS,
    on_done: Callable[[str, dict | Exception], None] | None = None,
) -> dict[str, dict | Exception]:
    """`ingest_register` for each of `tables` for `year`, `threads` at a time, each on a cursor of
    `con` (its own connection to the same database) and in its own transaction.

    Every table is attempted, also after another one failed, so the outcome does not depend on
    which load ends first. Returns {table: its result or the error it raised}, in the order of
    `tables`; the caller reports the first failure in that order. `on_done(table, outcome)` is
    called in this thread as each load ends (the largest files start first); an error it raises
    becomes that table's outcome. SAS datasets are read into memory whole (pipeline.readers), so
    they load one at a time, after the others. An interrupt (Ctrl-C) cancels the loads not
    started and interrupts the running ones, whose transactions roll back."""
    data_dir = Path(data_dir)
    ensure_meta_tables(con)  # created once here: two loads creating them at once would conflict
    if not _reference_loaded(con):
        load_reference(con, data_dir)
    outcomes: dict[str, dict | Exception] = {}

    def done(table: str, outcome: dict | Exception) -> None:
        if on_done is not None and not isinstance(outcome, Exception):
            try:
                on_done(table, outcome)
            except Exception as exc:  # noqa: BLE001 - e.g. the GX worker died: the table's outcome
                outcome = exc
        outcomes[table] = outcome

    def path(table: str) -> Path | None:
        try:
            return find_register_file(data_dir, table, year)
        except InputError:
            return None  # ingest_register raises the same error, as this table's outcome

    paths = {t: path(t) for t in tables}
    # a missing file fails alone; a SAS dataset loads alone
    side_by_side = [t for t, p in paths.items() if p is not None and p.suffix.lower() != ".sas7bdat"]
    if threads > 1 and len(side_by_side) > 1:
        _load_side_by_side(con, data_dir, sorted(side_by_side, key=lambda t: paths[t].stat().st_size, reverse=True),
                           year, threads, done)  # fmt: skip
    for table in tables:
        if table not in outcomes:
            try:
                outcome = ingest_register(con, data_dir, table, year)
            except Exception as exc:  # noqa: BLE001 - reported by the caller, in table order
                outcome = exc
            done(table, outcome)
    return {t: outcomes[t] for t in tables}


def _load_side_by_side(con: duckdb.DuckDBPyConnection, data_dir: Path, tables: list[str], year: int, threads: int,
                       done: Callable[[str, dict | Exception], None]) -> None:  # fmt: skip
    from concurrent.futures import ThreadPoolExecutor, as_completed

    cursors = {t: con.cursor() for t in tables}

    def load(table: str) -> dict:
        return ingest_register(cursors[table], data_dir, table, year)

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ingest")
    try:
        futures = {pool.submit(load, t): t for t in tables}
        for future in as_completed(futures):
            exc = future.exception()
            if exc is not None and not isinstance(exc, Exception):
                raise exc
            done(futures[future], exc if exc is not None else future.result())
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for cursor in cursors.values():
            try:
                cursor.interrupt()
            except duckdb.Error:
                pass
        raise
    finally:
        pool.shutdown(wait=True)
        for cursor in cursors.values():
            try:
                cursor.close()
            except duckdb.Error:
                pass


# ---------------------------------------------------------------------------------------------
# Boundaries


HAS_ROWS = "has_rows"
BOUNDARY_CHECKS = (COLUMNS_AND_TYPES, HAS_ROWS, UNIQUE_KEY, "parcels_in_areas", CODES_IN_REFERENCE)


def parcels_without_address(con: duckdb.DuckDBPyConnection, year: int | None = None) -> int | None:
    """Parcels of the loaded boundary version that match no address of stg_adresser for `year`
    (None: of any loaded year). A warning: usually a typo in a corrected boundary. None when no
    addresses are loaded for that year."""
    if not table_exists(con, "stg_parcels") or not table_exists(con, "stg_adresser"):
        return None
    params = {"y": year}
    if not _scalar(con, "select count(*) from stg_adresser where $y is null or year = $y", params):
        return None
    return int(
        _scalar(
            con,
            "select count(*) from stg_parcels p where not exists ("
            " select 1 from stg_adresser a"
            " where a.ejerlavskode = p.ejerlavskode and a.matrikelnr = p.matrikelnr"
            " and ($y is null or a.year = $y))",
            params,
        )
    )


def load_boundaries(con: duckdb.DuckDBPyConnection, boundaries_dir: Path) -> dict:
    """Validate and load areas.csv and parcels.csv as the boundary version in use.

    Errors (nothing loaded): a missing file or column, a duplicate area_id, a parcel listed
    twice, an area_id in parcels.csv that is not in areas.csv, an unknown municipality.
    Returns {"version", "path", "areas", "parcels", "status", "checks", "parcels_without_address"}.
    """
    bdir = Path(boundaries_dir)
    version = boundary_version(bdir)
    areas_path, parcels_path = bdir / "areas.csv", bdir / "parcels.csv"
    ensure_meta_tables(con)
    if not _reference_loaded(con):
        load_reference(con, None)

    prev = con.execute("select version from meta_boundaries").fetchall()
    if (
        prev == [(version,)]
        and table_exists(con, "stg_areas")
        and table_exists(con, "stg_parcels")
    ):
        n_areas = int(_scalar(con, "select count(*) from stg_areas"))
        n_parcels = int(_scalar(con, "select count(*) from stg_parcels"))
        status = "unchanged"
        checks = {name: {"passed": True, "failed_rows": 0} for name in BOUNDARY_CHECKS}
    else:
        areas = open_source(con, areas_path, BOUNDARY_FILES["areas"])
        try:
            parcels = open_source(con, parcels_path, BOUNDARY_FILES["parcels"])
            try:
                with _Transaction(con):
                    con.execute(f"create or replace table stg_areas as {sql_text('stg_areas')}", {"source": areas.view})
                    con.execute(
                        f"create or replace table stg_parcels as {sql_text('stg_parcels')}", {"source": parcels.view}
                    )
                    checks = _boundary_checks(con, areas_path, parcels_path)
                    n_areas = int(_scalar(con, "select count(*) from stg_areas"))
                    n_parcels = int(_scalar(con, "select count(*) from stg_parcels"))
                    con.execute("delete from meta_boundaries")
                    con.execute(
                        "insert into meta_boundaries values ($v, $p, $a, $n)",
                        {"v": version, "p": str(bdir), "a": n_areas, "n": n_parcels},
                    )
            finally:
                close_source(con, parcels)
        finally:
            close_source(con, areas)
        status = "loaded"
    return {
        "version": version,
        "path": str(bdir),
        "areas": n_areas,
        "parcels": n_parcels,
        "status": status,
        "checks": checks,
        "parcels_without_address": parcels_without_address(con),
    }


def _examples(con, sql: str) -> str:
    """Up to three area ids (public boundary data, not person-level) for an error message."""
    ids = [r[0] for r in con.execute(sql + " order by 1 limit 3").fetchall()]
    return ", ".join(str(i) for i in ids)


def _boundary_checks(con, areas_path: Path, parcels_path: Path) -> dict[str, dict]:
    # A boundary version without areas or without parcels publishes no list at all: every area with
    # 0 residents (a file saved empty, or only its header)
    for table, path in (("stg_areas", areas_path), ("stg_parcels", parcels_path)):
        if not int(_scalar(con, f"select count(*) from {table}")):
            raise _fail("the file has no rows (a boundary version needs its areas and their parcels)",
                        check=HAS_ROWS, file=path, column=None, year=None)  # fmt: skip
    dup_areas = int(_scalar(con, "select count(*) from (select area_id from stg_areas group by 1 having count(*) > 1)"))
    if dup_areas:
        ex = _examples(con, "select area_id from stg_areas group by 1 having count(*) > 1")
        raise _fail(f"{dup_areas} area_id values are listed more than once (e.g. {ex})",
                    check=UNIQUE_KEY, file=areas_path, column="area_id", year=None)
    dup_parcels = int(
        _scalar(con, "select count(*) from (select 1 from stg_parcels group by ejerlavskode, matrikelnr having count(*) > 1)")
    )
    if dup_parcels:
        raise _fail(f"{dup_parcels} parcels (ejerlavskode, matrikelnr) are listed more than once "
                    "(a parcel belongs to at most one area)",
                    check=UNIQUE_KEY, file=parcels_path, column="matrikelnr", year=None)
    orphan_sql = "select distinct area_id from stg_parcels where area_id not in (select area_id from stg_areas)"
    orphans = int(_scalar(con, f"select count(*) from ({orphan_sql})"))
    if orphans:
        ex = _examples(con, orphan_sql)
        raise _fail(f"{orphans} area_id values are not in areas.csv (e.g. {ex})",
                    check="parcels_in_areas", file=parcels_path, column="area_id", year=None)
    unknown_kom = int(_scalar(con, f"select count(*) from stg_areas where {not_in_code_list('kom', 'ref_municipalities', 'kom')}"))
    if unknown_kom:
        ex = _examples(con, f"select area_id from stg_areas where {not_in_code_list('kom', 'ref_municipalities', 'kom')}")
        raise _fail(f"{unknown_kom} areas have a municipality code that is not in the code list municipalities (e.g. {ex})",
                    check=CODES_IN_REFERENCE, file=areas_path, column="kom", year=None)
    return {name: {"passed": True, "failed_rows": 0} for name in BOUNDARY_CHECKS}


# ---------------------------------------------------------------------------------------------
# History


def history_path(data_dir: Path) -> Path:
    return Path(data_dir) / "history" / "lists.csv"


def history_unknown_areas(con: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    """History rows (and distinct area ids) whose area_id is not in the boundary version in use:
    kept in stg_history but ignored by the calculation. None when no boundaries are loaded."""
    if not table_exists(con, "stg_history") or not table_exists(con, "stg_areas"):
        return {"unknown_area_rows": None, "unknown_areas": None}
    rows, ids = con.execute(
        "select count(*), count(distinct area_id) from stg_history"
        " where area_id not in (select area_id from stg_areas where area_id is not null)"
    ).fetchall()[0]
    return {"unknown_area_rows": int(rows), "unknown_areas": int(ids)}


def load_history(con: duckdb.DuckDBPyConnection, data_dir: Path) -> dict:
    """Load DATA/history/lists.csv into stg_history (absent file -> empty table).

    An unknown `list` value is an error; rows whose area_id is not in the loaded boundary
    version are kept and counted ("unknown_area_rows", a warning).
    Returns {"path", "sha256", "rows", "status", "unknown_area_rows", "unknown_areas"}.
    """
    path = history_path(Path(data_dir))
    ensure_meta_tables(con)
    if not path.is_file():
        with _Transaction(con):
            con.execute("create or replace table stg_history (area_id varchar, list_year integer, list varchar)")
            con.execute("delete from meta_ingest where table_name = 'history'")
        return {"path": str(path), "sha256": None, "rows": 0, "status": "absent", **history_unknown_areas(con)}
    sha = file_sha256(path)
    src = open_source(con, path, HISTORY)
    try:
        with _Transaction(con):
            con.execute(f"create or replace table stg_history as {sql_text('stg_history')}", {"source": src.view})
            allowed = ", ".join(f"'{v}'" for v in HISTORY_LISTS)
            bad = int(_scalar(con, f"select count(*) from stg_history where list not in ({allowed})"))
            rows = int(_scalar(con, "select count(*) from stg_history"))
            if bad:
                raise _fail(f"{bad} of {rows} rows have a list other than {' or '.join(HISTORY_LISTS)}",
                            check="list_values", file=path, column="list", year=None)
            _record_ingest(con, "history", None, path, sha, rows)
    finally:
        close_source(con, src)
    return {"path": str(path), "sha256": sha, "rows": rows, "status": "loaded", **history_unknown_areas(con)}
