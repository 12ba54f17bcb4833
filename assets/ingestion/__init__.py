"""Dagster assets for ingestion: code lists, boundaries, history (unpartitioned) and the six
register extracts (partitioned by year: the partition key is the extract's year).

The register extracts are six assets of one subsettable multi-asset, `registers`, which loads the
selected extracts of its year side by side (pipeline.ingest.ingest_registers). Every register
asset declares blocking checks and validates BEFORE committing its load (pipeline.ingest): a
failure raises the one-line InputError (file, column, year) and leaves that table unchanged, so
nothing downstream runs on bad data. Metadata holds counts and file hashes, never a person-level
value.
"""

from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.partitions import years
from assets.resources import Settings
from pipeline import ingest
from pipeline.contract import REGISTERS

GROUP = "ingestion"

CHECK_DESCRIPTIONS = {
    ingest.COLUMNS_AND_TYPES: "Every contract column is present, castable to its type, and not empty where required.",
    ingest.UNIQUE_KEY: "The key is unique within the table (pnr; adresse_id; area_id; parcel).",
    ingest.CODES_IN_REFERENCE: "Codes are in the code lists (municipalities, countries, SOCIO13, HFAUDD, "
    "education sources, decision types) or their fixed domains (koen 1-2, ie_type 1-3, afg_ger7 7 digits).",
    ingest.AGE_RANGE: "alder is between 0 and 125.",
    ingest.DATES_IN_YEAR: "afg_dato lies inside the extract's year.",
    ingest.HAS_ROWS: "areas.csv and parcels.csv each have rows.",
    "parcels_in_areas": "Every area_id in parcels.csv is in areas.csv.",
    "list_values": "list is 'parallel' or 'transformation'.",
    "areas_in_boundaries": "History rows whose area_id is not in the boundary version in use (ignored; a warning).",
    "parcels_match_addresses": "Parcels of the boundary version that match no address of the year's address "
    "table (a warning: usually a typo in a corrected boundary).",
}

REGISTER_DESCRIPTIONS = {
    "bef": "Population on 1 January of the year (BEF) -> stg_bef.",
    "akm": "Labour-market status for the calendar year (AKM, SOCIO13) -> stg_akm.",
    "udda": "Highest completed education on 1 October of the year (UDDA) -> stg_udda.",
    "ind": "Personal income for the calendar year (IND) -> stg_ind.",
    "kraf": "Criminal decisions dated in the calendar year (KRAF) -> stg_kraf.",
    "adresser": "Address -> cadastral parcel on 1 January of the year -> stg_adresser.",
}


@contextmanager
def _connect(warehouse: DuckDBResource):
    """`warehouse.get_connection()`, closed also when the body raises (dagster-duckdb 0.29
    closes it only on success, which leaves the file locked after a failed check)."""
    Path(warehouse.database).parent.mkdir(parents=True, exist_ok=True)
    with warehouse.get_connection() as con:
        try:
            yield con
        finally:
            con.close()


def _check_results(checks: dict[str, dict], status: str, asset: str | None = None) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            asset_key=asset,
            check_name=name,
            passed=bool(r["passed"]),
            metadata={"failed_rows": int(r["failed_rows"]), "status": status},
        )
        for name, r in checks.items()
    ]


@dg.asset(
    group_name=GROUP,
    description="The code lists (pipeline/reference, overridden by DATA/reference) -> ref_<name> tables.",
    kinds={"duckdb"},
)
def reference(settings: Settings, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with _connect(warehouse) as con:
        meta = ingest.load_reference(con, settings.data_path)
    return dg.MaterializeResult(
        metadata={
            "rows": sum(meta["tables"].values()),
            **{f"rows_{name}": n for name, n in meta["tables"].items()},
            "overrides": ", ".join(meta["overrides"]) or "none",
            "status": meta["status"],
        }
    )


def _register_result(context: dg.AssetExecutionContext, table: str, meta: dict) -> dg.MaterializeResult:
    context.log.info(f"{table} {meta['year']}: {meta['rows']} rows, {meta['status']}")
    selected = context.selected_asset_check_keys
    checks = {name: r for name, r in meta["checks"].items() if dg.AssetCheckKey(dg.AssetKey(table), name) in selected}
    return dg.MaterializeResult(
        asset_key=table,
        metadata={
            "rows": meta["rows"],
            "sha256": meta["sha256"],
            "status": meta["status"],
            "source_path": meta["source_path"],
        },
        check_results=_check_results(checks, meta["status"], table),
    )


@dg.multi_asset(
    name="registers",
    specs=[
        dg.AssetSpec(table, group_name=GROUP, deps=[reference], description=REGISTER_DESCRIPTIONS[table],
                     kinds={"duckdb"})
        for table in REGISTERS
    ],  # fmt: skip
    check_specs=[
        dg.AssetCheckSpec(name, asset=table, blocking=True, description=CHECK_DESCRIPTIONS[name])
        for table in REGISTERS
        for name in ingest.register_check_names(table)
    ],
    partitions_def=years,
    can_subset=True,
    description="The register extracts of the partition's year, each into its stg_<table>: the selected "
    "ones are loaded side by side (pipeline.ingest.ingest_registers), each in its own transaction.",
)
def registers(context: dg.AssetExecutionContext, settings: Settings, warehouse: DuckDBResource):
    year = int(context.partition_key)
    tables = [t for t in REGISTERS if dg.AssetKey(t) in context.selected_asset_keys]
    with _connect(warehouse) as con:

        def done(table: str, outcome) -> None:
            if isinstance(outcome, dict) and outcome["status"] == "loaded":
                # its data-quality suite (the check <table>_quality) starts in the GX worker now
                from pipeline.quality.validate import submit_register

                submit_register(con, table, year, outcome["sha256"])

        outcomes = ingest.ingest_registers(con, settings.data_path, tables, year, on_done=done)
    failures = [outcome for outcome in outcomes.values() if isinstance(outcome, Exception)]
    for table, outcome in outcomes.items():
        if isinstance(outcome, Exception):
            context.log.error(f"{table} {year}: {outcome}")
        else:
            yield _register_result(context, table, outcome)
    if failures:
        # the first failing table in contract order, whichever load ended first (every failure
        # is in the log above)
        raise failures[0]


register_assets = [registers]

BOUNDARY_CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset="boundaries", blocking=True, description=CHECK_DESCRIPTIONS[name])
    for name in ingest.BOUNDARY_CHECKS
]


@dg.asset(
    group_name=GROUP,
    deps=[reference],
    description="The boundary version in use (areas.csv, parcels.csv) -> stg_areas, stg_parcels, meta_boundaries.",
    kinds={"duckdb"},
    check_specs=BOUNDARY_CHECK_SPECS,
)
def boundaries(settings: Settings, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with _connect(warehouse) as con:
        meta = ingest.load_boundaries(con, settings.boundaries_path)
    return dg.MaterializeResult(
        metadata={
            "version": meta["version"],
            "path": meta["path"],
            "areas": meta["areas"],
            "parcels": meta["parcels"],
            "status": meta["status"],
        },
        check_results=_check_results(meta["checks"], meta["status"]),
    )


@dg.asset(
    group_name=GROUP,
    deps=[boundaries],
    description="Official list membership for list years not recomputed (DATA/history/lists.csv, optional) -> stg_history.",
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec("columns_and_types", asset="history", blocking=True,
                          description=CHECK_DESCRIPTIONS["columns_and_types"]),
        dg.AssetCheckSpec("list_values", asset="history", blocking=True, description=CHECK_DESCRIPTIONS["list_values"]),
        dg.AssetCheckSpec("areas_in_boundaries", asset="history", blocking=False,
                          description=CHECK_DESCRIPTIONS["areas_in_boundaries"]),
    ],
)
def history(context: dg.AssetExecutionContext, settings: Settings, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with _connect(warehouse) as con:
        meta = ingest.load_history(con, settings.data_path)
    unknown_rows = meta["unknown_area_rows"]
    if unknown_rows:
        context.log.warning(
            f"history: {unknown_rows} rows ({meta['unknown_areas']} area ids) are for areas that are not in "
            "the boundary version in use; they are ignored"
        )
    return dg.MaterializeResult(
        metadata={
            "rows": meta["rows"],
            "status": meta["status"],
            "sha256": meta["sha256"] or "",
            "unknown_area_rows": unknown_rows if unknown_rows is not None else -1,
        },
        check_results=[
            dg.AssetCheckResult(check_name="columns_and_types", passed=True),
            dg.AssetCheckResult(check_name="list_values", passed=True),
            dg.AssetCheckResult(
                check_name="areas_in_boundaries",
                passed=not unknown_rows,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "unknown_area_rows": unknown_rows if unknown_rows is not None else -1,
                    "unknown_areas": meta["unknown_areas"] if meta["unknown_areas"] is not None else -1,
                },
            ),
        ],
    )


ingestion_assets = [reference, boundaries, history, *register_assets]

defs = dg.Definitions(assets=ingestion_assets)
