"""Dagster assets of the calculation (METHOD.md), partitioned by year.

    residents (1 January s)  <- bef(s), adresser(s), boundaries
    yearly_counts (data year t: C1, C2, national convictions)  <- residents(t+1), bef(t+1), akm(t), kraf(t)
    list_counts (list year Y: residents, C3, C4, C5, regional incomes)  <- residents(Y), bef(Y), udda/ind/akm(Y-1)
    classification (list year Y)  <- yearly_counts(Y-2, Y-1), list_counts(Y)
    areas (list year Y: + history)  <- classification(Y), areas(Y-1), history

A list year depends on the earlier list years through `areas` -> `areas(Y-1)`: the history of
one year feeds the next. Each asset replaces its own year's rows, so reruns never duplicate.
`residents` and `yearly_counts` (years independent of each other) take a range of years in one
run (BackfillPolicy.single_run: `boliglister run` and a backfill in the UI pay Dagster's
per-run cost once, not once a year); the list-year assets run one year at a time, in order.
The SQL is in sql/, the exact decisions in pipeline.criteria, the history in pipeline.history.
"""


import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.partitions import years
from assets.resources import Settings
from assets.ingestion import CHECK_DESCRIPTIONS
from pipeline import calculate, ingest
from pipeline.warehouse import connect

GROUP = "calculation"


def _window(start: int, end: int) -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping(
        start_offset=start, end_offset=end, allow_nonexistent_upstream_partitions=True
    )


def _same() -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping()


def _connect(warehouse: DuckDBResource):
    return connect(warehouse.database)


@dg.asset(
    partitions_def=years,
    group_name=GROUP,
    deps=[
        dg.AssetDep("boundaries"),
        dg.AssetDep("bef", partition_mapping=_same()),
        dg.AssetDep("adresser", partition_mapping=_same()),
    ],
    description="Persons living in a housing area on 1 January of the year -> int_residents.",
    kinds={"duckdb"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            "parcels_match_addresses", asset="residents", blocking=False,
            description=CHECK_DESCRIPTIONS["parcels_match_addresses"],
        ),
    ],  # fmt: skip
)
def residents(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    metadata: dict = {}
    unmatched: dict[int, int | None] = {}
    with _connect(warehouse) as con:
        for key in context.partition_keys:  # one year, or a range of years in one run
            year = int(key)
            n = calculate.build_residents(con, year)
            areas = con.execute("select count(distinct area_id) from int_residents where year = $y", {"y": year}).fetchall()[0][0]
            unmatched[year] = ingest.parcels_without_address(con, year)
            metadata.update({f"residents_{year}": n, f"areas_with_residents_{year}": int(areas)})
            if unmatched[year]:
                context.log.warning(f"{unmatched[year]} parcels of the boundaries match no address of adresser_{year}")
    text = "; ".join(f"{n or 0} parcels match no address of adresser_{y}" for y, n in unmatched.items())
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name="parcels_match_addresses",
                passed=not any(unmatched.values()),
                severity=dg.AssetCheckSeverity.WARN,
                description=text + ".",
                metadata={
                    "parcels_without_address": sum(int(n or 0) for n in unmatched.values()),
                    **{f"parcels_without_address_{y}": int(n or 0) for y, n in unmatched.items()},
                    "addresses_loaded": all(n is not None for n in unmatched.values()),
                },
            )
        ],
    )


@dg.asset(
    partitions_def=years,
    group_name=GROUP,
    deps=[
        dg.AssetDep(residents, partition_mapping=_window(1, 1)),
        dg.AssetDep("bef", partition_mapping=_window(1, 1)),
        dg.AssetDep("akm", partition_mapping=_same()),
        dg.AssetDep("kraf", partition_mapping=_same()),
        dg.AssetDep("reference"),
    ],
    description="Per data year t and area: the counts behind C1 (labour) and C2 (convictions), and the "
    "national conviction counts -> int_convicted, int_yearly_counts, int_national_convictions.",
    kinds={"duckdb"},
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def yearly_counts(
    context: dg.AssetExecutionContext, settings: Settings, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    md: dict = {}
    with _connect(warehouse) as con:
        for key in context.partition_keys:  # one data year, or a range of them in one run
            t = int(key)
            # the list years that read data year t: t+1 (as "last") and t+2 (as "prev")
            rulesets = [settings.rules_for(y) for y in (t + 1, t + 2) if y >= calculate.FIRST_LIST_YEAR]
            meta = calculate.build_yearly_counts(con, t, rulesets)
            nat = con.execute(
                "select persons, convicted from int_national_convictions where data_year = $t and params_key = $k",
                {"t": t, "k": calculate.yearly_params(rulesets[0])["params_key"] if rulesets else ""},
            ).fetchall()
            md.update({f"{k}_{t}": v for k, v in meta.items()})
            if nat:
                md.update({f"national_persons_{t}": int(nat[0][0]), f"national_convicted_{t}": int(nat[0][1])})
    return dg.MaterializeResult(metadata=md)


@dg.asset(
    partitions_def=years,
    group_name=GROUP,
    deps=[
        dg.AssetDep(residents, partition_mapping=_same()),
        dg.AssetDep("bef", partition_mapping=_same()),
        dg.AssetDep("udda", partition_mapping=_window(-1, -1)),
        dg.AssetDep("ind", partition_mapping=_window(-1, -1)),
        dg.AssetDep("akm", partition_mapping=_window(-1, -1)),
        dg.AssetDep("reference"),
    ],
    description="Per list year Y and area: residents, C3 (education), C4 (income, with the regional "
    "means) and C5 (non-western) counts -> int_national_counts (regional incomes, coverage counts), int_list_counts.",
    kinds={"duckdb"},
)
def list_counts(
    context: dg.AssetExecutionContext, settings: Settings, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    y = int(context.partition_key)
    with _connect(warehouse) as con:
        meta = calculate.build_list_counts(con, y, settings.rules_for(y))
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    partitions_def=years,
    group_name=GROUP,
    deps=[
        dg.AssetDep(yearly_counts, partition_mapping=_window(-2, -1)),
        dg.AssetDep(list_counts, partition_mapping=_same()),
    ],
    description="Criteria and lists of list year Y decided exactly on the counts (pipeline.criteria), "
    "before history -> mart_classification, mart_national.",
    kinds={"duckdb"},
)
def classification(
    context: dg.AssetExecutionContext, settings: Settings, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    y = int(context.partition_key)
    rules = settings.rules_for(y)
    with _connect(warehouse) as con:
        result = calculate.classify_year(con, y, rules)
    a = result.areas
    return dg.MaterializeResult(
        metadata={
            "ruleset": rules.name,
            "areas": a.height,
            "eligible": int(a["eligible"].sum()),
            "vulnerable": int(a["vulnerable"].sum()),
            "parallel": int(a["parallel"].sum()),
            "prevention": int(a["prevention"].sum()),
            "combined_letting": int(a["combined_letting"].sum()),
        }
    )


@dg.asset(
    partitions_def=years,
    group_name=GROUP,
    deps=[
        dg.AssetDep(classification, partition_mapping=_same()),
        dg.AssetDep("areas", partition_mapping=_window(-1, -1)),
        dg.AssetDep("history"),
    ],
    description="The list year's areas table with history: years on the parallel list, transformation, "
    "development plan (METHOD.md § 6) -> mart_areas.",
    kinds={"duckdb"},
)
def areas(context: dg.AssetExecutionContext, settings: Settings, warehouse: DuckDBResource) -> dg.MaterializeResult:
    y = int(context.partition_key)
    rules = settings.rules_for(y)
    with _connect(warehouse) as con:
        plan = calculate.plan_history(con, settings.data_path, y, settings.history)
        computed = [yr for yr, src in plan.items() if src == "computed"]
        rules_for_year = calculate.rules_for_years(computed, settings.rules, settings.requested_years)
        frame, summary = calculate.apply_history(con, y, rules, plan, rules_for_year)
    file_years = [yr for yr, src in plan.items() if src == "file"]
    return dg.MaterializeResult(
        metadata={
            "ruleset": rules.name,
            "history_mode": settings.history,
            "history_from_file": ", ".join(map(str, file_years)) or "none",
            "history_computed": ", ".join(map(str, computed)) or "none",
            "history_rows_ignored": summary["history_rows_ignored"],
            "vulnerable": int(frame["vulnerable"].sum()),
            "parallel": summary["parallel"],
            "transformation": summary["transformation"],
            "prevention": int(frame["prevention"].sum()),
            "development_plan": summary["development_plan"],
        }
    )


calculation_assets = [residents, yearly_counts, list_counts, classification, areas]

defs = dg.Definitions(assets=calculation_assets)
