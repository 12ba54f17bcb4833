"""DuckDB warehouse helpers: run the SQL files in `sql/` with bound parameters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(str(resources.files("sql")))

# Every connection to the warehouse in one process must use the same configuration (DuckDB
# refuses a second connection to an open file with another one); the Dagster resource uses it too.
CONFIG = {"custom_user_agent": "boliglister"}

# Columns stored without compression. Person and address identifiers have (nearly) one value per
# row: DuckDB's string compression (dict_fsst) spent about 40 % of the load time of a national
# register on them for a factor of two in size (benchmarks/bench_ingest.py; docs/PERFORMANCE.md).
# Stored plain they load and join faster, and the warehouse is about twice as large. Only the
# storage differs, never the values.
UNCOMPRESSED_COLUMNS = frozenset({"pnr", "adresse_id"})


def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql` (the file is named after the table it creates)."""
    path = SQL_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8")


@contextmanager
def connect(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse file that is closed on success and on error alike (an
    unclosed connection keeps the file locked for the rest of the process)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config=CONFIG)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether a table or view `table` (a name from the code) is visible to `con`, as a query
    naming it would see it. Binding the name costs 0.2-0.4 ms, asking information_schema 1.4-1.7 ms
    (it lists the whole catalog), and a national run asks some 200 times (docs/PERFORMANCE.md,
    eighteenth session)."""
    try:
        con.table(quote_ident(table))
    except duckdb.CatalogException:
        return False
    return True


def quote_ident(name: str) -> str:
    """A SQL identifier, double-quoted (safe for any column name, also one found in a file)."""
    return '"' + name.replace('"', '""') + '"'


def not_in_code_list(column: str, code_list: str, code_column: str) -> str:
    """SQL: `column` holds a code that `code_list` does not have. Null values pass (`null not in`
    is null), and so do the list's empty codes (a null inside `not in` would hide every code)."""
    return f"{column} not in (select {code_column} from {code_list} where {code_column} is not null)"


def create_table_like(con: duckdb.DuckDBPyConnection, table: str, select_sql: str, params: dict[str, Any]) -> None:
    """Create the empty `table` with the columns and types of `select_sql` (identifier columns of
    UNCOMPRESSED_COLUMNS stored uncompressed).

    Always by DDL, never `create table ... as select ... where false`: in DuckDB 2.0.0 a table
    created that way and then filled with at least one row group (122,880 rows) from a Parquet
    file in the same transaction keeps empty column statistics in that connection, so every
    filtered scan of it returns no rows (the blocking checks of a national register saw 0 rows;
    the regional incomes came out empty). tests/test_warehouse.py reproduces it."""
    columns = con.execute(f"describe select * from ({select_sql})", params).fetchall()
    ddl = ", ".join(
        f"{quote_ident(name)} {ctype}" + (" using compression uncompressed" if name in UNCOMPRESSED_COLUMNS else "")
        for name, ctype, *_ in columns
    )
    con.execute(f"create table {table} ({ddl})")


def replace_partition(
    con: duckdb.DuckDBPyConnection,
    table: str,
    keys: dict[str, Any],
    select_sql: str,
    params: dict[str, Any] | None = None,
    *,
    own_transaction: bool = True,
) -> int:
    """Replace the rows of `table` matching `keys` (column -> value) by the rows of `select_sql`.

    Runs in its own transaction (or, with own_transaction=False, in the caller's), so a rerun never
    duplicates and a failure leaves the table as it was. The table is created from the query's
    schema on first use. Returns the number of rows inserted. Values are always bound as
    parameters; table and column names come from the code, never from input data.
    """
    params = dict(params or {})
    key_params = {f"__k{i}": v for i, v in enumerate(keys.values())}
    where = " and ".join(f"{col} = $__k{i}" for i, col in enumerate(keys)) or "true"
    own_tx = own_transaction
    if own_tx and not table_exists(con, table):
        create_table_like(con, table, select_sql, params)  # committed on its own: see create_table_like
    if own_tx:
        con.execute("begin transaction")
    try:
        if not table_exists(con, table):
            create_table_like(con, table, select_sql, params)
        con.execute(f"delete from {table} where {where}", key_params)
        con.execute(f"insert into {table} by name select * from ({select_sql})", params)
        n = con.execute(f"select count(*) from {table} where {where}", key_params).fetchall()[0][0]
        if own_tx:
            con.execute("commit")
        return int(n)
    except BaseException:
        if own_tx:
            con.execute("rollback")
        raise


def run_sql_table(con: duckdb.DuckDBPyConnection, table: str, keys: dict[str, Any], params: dict[str, Any]) -> int:
    """Materialise the rows of `sql/<table>.sql` for `keys` into the table of the same name."""
    return replace_partition(con, table, keys, sql_text(table), params)
