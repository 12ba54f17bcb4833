"""DuckDB warehouse helpers: run the SQL files in `sql/` with bound parameters."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(str(resources.files("sql")))


def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql` (the file is named after the table it creates)."""
    path = SQL_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path))


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_name = ?", [table]
        ).fetchall()[0][0]
    )


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key_column: str,
    key_value: Any,
    select_sql: str,
    params: dict[str, Any] | None = None,
) -> int:
    """Replace the rows of `table` where key_column = key_value by the rows of `select_sql`.

    Runs inside the caller's transaction (or its own when there is none), so a rerun never
    duplicates and a failure leaves the table as it was. The table is created from the query's
    schema on first use. Returns the number of rows inserted.
    """
    params = dict(params or {})
    own_tx = False
    try:
        con.execute("begin transaction")
        own_tx = True
    except duckdb.TransactionException:
        pass  # already inside a transaction
    try:
        if not table_exists(con, table):
            con.execute(f"create table {table} as select * from ({select_sql}) where false", params)
        con.execute(f"delete from {table} where {key_column} = $__key", {"__key": key_value})
        con.execute(f"insert into {table} by name select * from ({select_sql})", params)
        n = con.execute(f"select count(*) from {table} where {key_column} = $__key", {"__key": key_value}).fetchall()[0][0]
        if own_tx:
            con.execute("commit")
        return int(n)
    except BaseException:
        if own_tx:
            con.execute("rollback")
        raise
