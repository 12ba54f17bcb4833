"""Validation results kept in the warehouse (`meta_quality`), so that the report written at
publication shows every suite that ran in the Dagster checks without running them twice."""

from __future__ import annotations

import duckdb

from pipeline.quality.result import QualityResult, result_from_json, result_to_json
from pipeline.warehouse import replace_partition

TABLE = "meta_quality"


def save_result(con: duckdb.DuckDBPyConnection, scope: str, year: int, result: QualityResult) -> None:
    """scope: a register table name (year = data year) or "list_year" (year = list year)."""
    replace_partition(
        con,
        TABLE,
        {"scope": scope, "year": year},
        "select cast($scope as varchar) as scope, cast($year as integer) as year, cast($j as varchar) as outcomes",
        {"scope": scope, "year": year, "j": result_to_json(result)},
    )


def load_result(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> QualityResult | None:
    try:
        rows = con.execute(
            f"select outcomes from {TABLE} where scope = $scope and year = $year", {"scope": scope, "year": year}
        ).fetchall()
    except duckdb.CatalogException:
        return None
    return result_from_json(rows[0][0]) if rows else None
