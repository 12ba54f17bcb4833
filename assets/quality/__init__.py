"""Dagster asset checks for data quality (the GX suites of `expectations/`).

- On each register asset (`bef`, `akm`, `udda`, `ind`, `kraf`, `adresser`; partition = data
  year): the table's suite on its counts for that year.
- On the `areas` asset (partition = list year): the list-year input suites (coverage, boundaries,
  residents per area, history) and the output suites (`areas_output`, `list_counts` against
  Y-1). The register suites already ran on the register assets and are not repeated.

Every result is kept in the warehouse (`meta_quality`), and the `publication` asset writes the
report `OUT/Y/quality/` from them with the other outputs. When an error stops the run, the
report goes to `OUT/rejected/Y/quality/` instead, so a stopped run shows why while the last good
`OUT/Y/` stays exactly as it was.

One AssetCheckSpec per suite, named `gx_<suite>`, blocking when the suite has an error-severity
expectation. Its result fails with `AssetCheckSeverity.ERROR` when an error-severity expectation
fails (everything downstream stops, so nothing is published), with `WARN` when only warnings fail
(the run goes on). The metadata of the result gives every expectation of the suite: its severity,
pass or fail, the observed aggregate per year, and the failing housing areas (public ids). One
check per suite, not per expectation: the UI shows the suites, and a run emits about 150 Dagster
events fewer (each costs milliseconds of event-log work). GX is imported lazily inside the checks.
"""


from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.resources import Settings
from pipeline.outputs import rejected_folder
from pipeline.quality.suites import LIST_YEAR_INPUT_SUITES, OUTPUT_SUITES, REGISTER_SUITES, suite_checks

AREAS_KEY = dg.AssetKey("areas")


def suite_check_name(suite: str) -> str:
    """The Dagster check of a GX suite: `gx_<suite>`."""
    return f"gx_{suite}"


def _specs(asset_key: dg.AssetKey, suites) -> list[dg.AssetCheckSpec]:
    specs = []
    for s in suites:
        checks = suite_checks(s)
        errors = sum(c["severity"] == "error" for c in checks)
        specs.append(
            dg.AssetCheckSpec(
                suite_check_name(s),
                asset=asset_key,
                blocking=errors > 0,
                description=f"GX suite expectations/{s}.json: {len(checks)} expectations; a failure of one of "
                f"its {errors} error-severity expectations stops the run, the {len(checks) - errors} "
                "warnings are reported.",
            )
        )
    return specs


def _expectation_text(severity: str, outcomes) -> str:
    """`pass` or `FAIL`, the severity, and the observed aggregate of each year evaluated."""
    if not outcomes:
        return f"not evaluated [{severity}]"
    status = "pass" if all(o.success for o in outcomes) else "FAIL"
    observed = "; ".join(
        f"{o.year if o.year is not None else 'all'}: {o.observed_text() or ('pass' if o.success else 'fail')}"
        for o in outcomes
    )
    return f"{status} [{severity}] {observed}"


def _suite_result(asset_key: dg.AssetKey, suite: str, by_name: dict[str, list]) -> dg.AssetCheckResult:
    """One Dagster result for one suite; an expectation's outcomes may cover several years (all
    must pass). ERROR when an error-severity expectation fails, else WARN."""
    metadata: dict = {}
    failed = {"error": [], "warning": []}
    for c in suite_checks(suite):
        outcomes = by_name.get(c["name"], [])
        if not all(o.success for o in outcomes):
            failed[c["severity"]].append(c["id"])
        metadata[c["id"]] = _expectation_text(c["severity"], outcomes)
        for o in outcomes:
            if o.areas:
                metadata[f"{c['id']}_areas_{o.year if o.year is not None else 'all'}"] = ", ".join(o.areas)
    if failed["error"] or failed["warning"]:
        text = "; ".join(f"{sev}s failed: {', '.join(ids)}" for sev, ids in failed.items() if ids)
    else:
        text = "every expectation passed"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=suite_check_name(suite),
        passed=not (failed["error"] or failed["warning"]),
        severity=dg.AssetCheckSeverity.ERROR if failed["error"] else dg.AssetCheckSeverity.WARN,
        description=text,
        metadata={"failed_errors": len(failed["error"]), "failed_warnings": len(failed["warning"]), **metadata},
    )


def _results(asset_key: dg.AssetKey, suites, result) -> list[dg.AssetCheckResult]:
    by_name: dict[str, list] = {}
    for o in result.outcomes:
        by_name.setdefault(o.check_name, []).append(o)
    return [_suite_result(asset_key, s, by_name) for s in suites]


def _years_of(context, con, table: str, column: str) -> list[int]:
    if context.has_partition_key:
        return [int(context.partition_key)]
    from pipeline.warehouse import table_exists

    if not table_exists(con, table):
        return []
    row = con.execute(f"select max({column}) from {table}").fetchall()[0][0]
    return [] if row is None else [int(row)]


def _register_check(table: str) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(table)

    @dg.multi_asset_check(
        name=f"{table}_quality",
        specs=_specs(key, [table]),
        description=f"GX suite expectations/{table}.json on the counts of stg_{table} for the partition's year.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource):
        from pipeline.quality import QualityResult, validate_register

        from pipeline.ingest import ingested_sha256
        from pipeline.quality.store import load_result, save_result

        result = QualityResult()
        with warehouse.get_connection() as con:
            for year in _years_of(context, con, f"stg_{table}", "year"):
                sha = ingested_sha256(con, table, year)
                # the same file is still ingested: its validation stands (a boundary rerun)
                year_result = load_result(con, table, year, sha) if sha else None
                if year_result is None:
                    year_result = validate_register(con, table, year, sha)
                    save_result(con, table, year, year_result, sha)
                result.extend(year_result)
        if result.has_errors:
            context.log.error(result.error_line())
        yield from _results(key, [table], result)

    return _check


def _prepare_documents(con, settings: Settings, list_year: int) -> None:
    """A list year to be published whose suites run in the GX worker process: this process only
    waits for them, so the publication's documents are drawn meanwhile (pipeline.publish.documents;
    the publication takes them only if its inputs are the same)."""
    from pipeline.publish import documents
    from pipeline.quality import gx_runner

    if list_year not in settings.requested_years or not gx_runner.worker_running():
        return
    inputs = documents.read_inputs(con, list_year)
    if inputs is not None:
        documents.prepare(inputs)


@dg.multi_asset_check(
    name="areas_quality",
    specs=_specs(AREAS_KEY, [*LIST_YEAR_INPUT_SUITES, *OUTPUT_SUITES]),
    description="Coverage, boundaries, history and output GX suites for the list year.",
)
def areas_quality(context: dg.AssetCheckExecutionContext, settings: Settings, warehouse: DuckDBResource):
    from pipeline.calculate import previous_areas
    from pipeline.contract import needed_registers
    from pipeline.quality import write_quality_report
    from pipeline.quality.store import load_result, save_result
    from pipeline.quality.validate import submit_list_year_inputs, submit_outputs
    from pipeline.warehouse import table_exists

    with warehouse.get_connection() as con:
        years = _years_of(context, con, "mart_areas", "list_year")
        if not years:
            raise dg.Failure("no list year to validate: mart_areas is empty and the run has no partition")
        list_year = years[0]
        pending = [submit_list_year_inputs(con, list_year)]
        if table_exists(con, "mart_areas"):
            areas = con.execute("select * from mart_areas where list_year = ?", [list_year]).df()
            prev, prev_lists = previous_areas(con, settings.out_path, list_year)
            pending.append(submit_outputs(areas, prev, settings.rules_for(list_year), prev_lists))
        # the suites run in the GX worker process meanwhile (when one runs)
        _prepare_documents(con, settings, list_year)
        merged = pending[0].result()
        for p in pending[1:]:
            merged = merged + p.result()
        save_result(con, "list_year", list_year, merged)
        registers = [load_result(con, t, y) for t, y in needed_registers(list_year)]
    if merged.has_errors:
        # nothing will be published: the report of the stopped run goes beside, not into, OUT/Y
        out_dir = rejected_folder(settings.out_path, list_year) / "quality"
        write_quality_report([r for r in registers if r is not None] + [merged], out_dir)
        context.log.error(f"quality report of the stopped run: {out_dir}")
    for o in merged.warnings:
        context.log.warning(f"{o.suite}.{o.check} ({o.table}, {o.year}): {o.observed_text()}")
    if merged.has_errors:
        context.log.error(merged.error_line())
    yield from _results(AREAS_KEY, [*LIST_YEAR_INPUT_SUITES, *OUTPUT_SUITES], merged)


register_checks = [_register_check(t) for t in REGISTER_SUITES]

defs = dg.Definitions(asset_checks=[*register_checks, areas_quality])
