"""The annual run: a job `annual_lists` that materialises the newest list year, and the schedule
`annual_lists_schedule` that starts it once a year (registers itself as `defs`).

The schedule is a `@dg.schedule` returning a RunRequest with the list year in the op config,
not `build_schedule_from_partitioned_job` (fixed to 1 January 00:00 UTC for yearly partitions)
nor a plain ScheduleDefinition on a partitioned job (fails at run time): see notes/STACK.md.

Configuration (environment, read when the definitions load):
- `BOLIGLISTER_SCHEDULE_CRON`: when to run (cron, Europe/Copenhagen time); default
  "0 6 15 11 *" = 15 November 06:00, before the lists are published on 1 December.
The list year is the calendar year of the tick in Copenhagen.
"""


import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from assets.resources import Settings
from pipeline.errors import InputError

CRON_ENV = "BOLIGLISTER_SCHEDULE_CRON"
DEFAULT_CRON = "0 6 15 11 *"
TIMEZONE = "Europe/Copenhagen"
OP_NAME = "run_annual_lists"


class AnnualListsConfig(dg.Config):
    year: int  # the list year to materialise


@dg.op(name=OP_NAME, description="Materialise every asset of one list year and write its outputs.")
def run_annual_lists(context: dg.OpExecutionContext, config: AnnualListsConfig, settings: Settings) -> None:
    from assets.runner import run_list_years  # lazily: the runner imports the whole asset graph

    started = time.monotonic()
    context.log.info(f"Annual run: list year {config.year}, outputs under {settings.out_path / str(config.year)}")

    def progress(label: str, step: int, total: int) -> None:
        context.log.info(f"list year {config.year}: step {step}/{total}: {label}" if total else label)

    run_list_years([config.year], settings, instance=context.instance, progress=progress)
    context.log.info(f"Annual run: list year {config.year} done in {time.monotonic() - started:.0f} s")


@dg.job(
    name="annual_lists",
    description="The yearly run: materialise the newest list year (year in the op config).",
    executor_def=dg.in_process_executor,
)
def annual_lists() -> None:
    run_annual_lists()


def run_config_for(year: int) -> dict:
    return {"ops": {OP_NAME: {"config": {"year": year}}}}


def schedule_cron() -> str:
    """The schedule's cron: `BOLIGLISTER_SCHEDULE_CRON` or the default."""
    return os.environ.get(CRON_ENV, "").strip() or DEFAULT_CRON


def list_year_of_tick(when: datetime | None) -> int:
    """The newest list year for a tick: its calendar year in Copenhagen (naive = Copenhagen)."""
    tz = ZoneInfo(TIMEZONE)
    if when is None:
        when = datetime.now(tz)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(tz).year


def build_annual_schedule(cron: str | None = None) -> dg.ScheduleDefinition:
    cron = cron or schedule_cron()

    def annual_lists_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        year = list_year_of_tick(context.scheduled_execution_time)
        return dg.RunRequest(
            run_key=f"annual_lists_{year}",
            run_config=run_config_for(year),
            tags={"boliglister/list_year": str(year)},
        )

    try:
        return dg.schedule(
            name="annual_lists_schedule",
            cron_schedule=cron,
            job=annual_lists,
            execution_timezone=TIMEZONE,
            description=f"Each year at '{cron}' ({TIMEZONE}): the lists of that calendar year.",
        )(annual_lists_schedule)
    except dg.DagsterInvalidDefinitionError as exc:
        raise InputError(
            f"environment variable {CRON_ENV}: {cron!r} is not a valid cron expression "
            f"(default {DEFAULT_CRON!r} = 15 November 06:00)"
        ) from exc


annual_lists_schedule = build_annual_schedule()

defs = dg.Definitions(jobs=[annual_lists], schedules=[annual_lists_schedule])
