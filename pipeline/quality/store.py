"""Validation results kept in the warehouse (`meta_quality`), so that the report written at
publication shows every suite that ran in the Dagster checks without running them twice."""

from __future__ import annotations

import duckdb

from pipeline.quality.result import QualityResult, result_from_json, result_to_json
from pipeline.warehouse import replace_partition

TABLE = "meta_quality"


def save_result(
    con: duckdb.DuckDBPyConnection, scope: str, year: int, result: QualityResult, source_sha256: str | None = None
) -> None:
    """scope: a register table name (year = data year) or "list_year" (year = list year).
    `source_sha256`: the ingested file the result is about (a register's result is reused while
    the same file stays ingested)."""
    replace_partition(
        con,
        TABLE,
        {"scope": scope, "year": year},
        "select cast($scope as varchar) as scope, cast($year as integer) as year, "
        "cast($sha as varchar) as source_sha256, cast($j as varchar) as outcomes",
        {"scope": scope, "year": year, "sha": source_sha256, "j": result_to_json(result)},
    )


def load_result(
    con: duckdb.DuckDBPyConnection, scope: str, year: int, source_sha256: str | None = None
) -> QualityResult | None:
    """The stored result; with `source_sha256`, only if it was computed on that same file."""
    try:
        rows = con.execute(
            f"select outcomes, source_sha256 from {TABLE} where scope = $scope and year = $year",
            {"scope": scope, "year": year},
        ).fetchall()
    except duckdb.CatalogException:
        return None
    if not rows or (source_sha256 is not None and rows[0][1] != source_sha256):
        return None
    return result_from_json(rows[0][0])
