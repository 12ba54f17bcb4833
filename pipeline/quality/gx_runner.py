"""Run a suite of `expectations/` on a pandas frame with Great Expectations.

GX is imported lazily (it costs seconds), runs in an ephemeral context with analytics and
progress bars off, and is asked for results without unexpected values
(`SUMMARY` with `partial_unexpected_count: 0`): only counts come back. We then keep a whitelist
of aggregate keys, so even a future GX that returned more would not leak anything.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from pipeline.quality.result import Outcome
from pipeline.quality.suites import load_suite

if TYPE_CHECKING:
    import pandas as pd

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
# The only keys of a GX result we keep: aggregates, never values.
SAFE_KEYS = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "missing_count")
# observed_value is an aggregate only for these (the expectation computes it over a column of
# counts or shares, or it is the table's column list).
OBSERVED_VALUE_TYPES = {
    "expect_column_max_to_be_between",
    "expect_column_min_to_be_between",
    "expect_table_columns_to_match_ordered_list",
    "expect_table_columns_to_match_set",
    "expect_table_row_count_to_be_between",
}

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _batch_definition():
    with _lock:
        if "bd" not in _state:
            os.environ["GX_ANALYTICS_ENABLED"] = "false"
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            )
            ctx = gx.get_context(mode="ephemeral", project_config=config)
            asset = ctx.data_sources.add_pandas("boliglister_quality").add_dataframe_asset("frame")
            _state["bd"] = asset.add_batch_definition_whole_dataframe("whole")
        return _state["bd"]


def _plain(v: Any) -> Any:
    if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


# --- a worker process for Great Expectations -------------------------------------------------------
# Importing GX costs 3-5 s of pure Python (it imports scipy.stats, altair, SQLAlchemy, ...). In a
# thread of the pipeline's process that import holds the GIL against the pipeline's own Python
# work; in a process of its own it runs on the other core. `boliglister run` starts the worker
# at once and every suite is then validated there: the frames sent are the small aggregate and
# boundary frames the suites read (never person-level rows), and only the Outcomes come back.

_worker: dict[str, Any] = {}
# imported by GX for expectations and renderers our suites do not use (pipeline.quality.deferred)
DEFERRED_IN_WORKER = ("scipy.stats", "altair")
# the worker's scheduling priority relative to the run (Unix niceness, 0-19: higher yields more)
WORKER_NICENESS = 10


def _warm_worker() -> None:
    import atexit
    import signal

    from pipeline.gc_policy import collect_less_often, freeze_imported

    collect_less_often()

    # Ctrl-C reaches the whole process group: the run decides what an interrupt means (it stops
    # the worker on its way out); the worker printed a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    # A spawned worker ends like an interpreter (tearing down GX, scipy, ...: over a second,
    # which the parent waits for); it holds no state worth the wait, so it ends at once.
    atexit.register(os._exit, 0)
    # The worker yields the cores to the run: while the run's own DuckDB threads keep both busy
    # (ingestion), GX's import and the first suites wait for the gaps between its steps instead of
    # preempting a DuckDB thread (docs/PERFORMANCE.md, tenth session: the full national run about
    # 4 % faster, the boundary rerun no slower). On an idle core the worker runs at full speed.
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # no os.nice (Windows) or not permitted: run as is
        pass
    # GX imports SQLAlchemy when it is installed (Dagster installs it) for SQL datasources; the
    # worker validates pandas frames only, and GX treats SQLAlchemy as optional
    # (great_expectations.compatibility.sqlalchemy): blocked here, GX imports in about 0.7 s less.
    import sys

    if "sqlalchemy" not in sys.modules:
        sys.modules["sqlalchemy"] = None  # type: ignore[assignment]  # `import sqlalchemy` fails
    # scipy.stats and altair run only if something uses them (none of our suites does): about
    # 1.2 s less of the worker's start, which shares the two cores with the run's first steps
    from pipeline.quality.deferred import defer

    for name in DEFERRED_IN_WORKER:
        defer(name)
    _batch_definition()
    # the worker also writes the publication's workbook (pipeline.publish.documents): its modules
    # (polars, xlsxwriter) are imported now, while the worker waits for the first suites
    try:
        import pipeline.publish.workbook  # noqa: F401
    except Exception:  # noqa: BLE001 - imported again, with its error, where it is used
        pass
    freeze_imported()  # GX, pandas, polars: kept to the end of the worker


def _ready() -> bool:
    return True


def start_worker() -> bool:
    """Start the worker process (spawned, so none of the parent's DuckDB threads are forked), unless
    GX is already imported here or the worker runs. Returns whether suites will run there."""
    import sys

    if "pool" in _worker:
        return True
    if "great_expectations" in sys.modules or os.environ.get("BOLIGLISTER_GX_WORKER") == "0":
        return False
    import atexit
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_worker)
    pool.submit(_ready)  # start it now: the import overlaps with the first steps
    _worker["pool"] = pool
    atexit.register(stop_worker)
    return True


def worker_running() -> bool:
    """Whether suites are validated in the worker process (started and not broken)."""
    return "pool" in _worker


def submit(fn, /, *args: Any, **kwargs: Any):
    """Run `fn(*args, **kwargs)` in the worker process, beside this one (e.g. the workbook while
    this process draws the report). A Future, or None when no worker runs (the caller then runs
    it itself). Only small, aggregate arguments are sent (areas, boundaries), never person rows."""
    pool = _worker.get("pool")
    if pool is None:
        return None
    from concurrent.futures.process import BrokenProcessPool

    try:
        return pool.submit(fn, *args, **kwargs)
    except BrokenProcessPool:
        _worker.pop("pool", None)
        return None


def stop_worker() -> None:
    pool = _worker.pop("pool", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def submit_suite(
    name: str,
    frame: pd.DataFrame,
    *,
    year: int | None,
    list_year: int | None = None,
    parameters: dict[str, Any] | None = None,
):
    """Start validating `frame` against `expectations/<name>.json`; returns a function that gives
    its Outcomes. In the worker process (when one runs) the suites submitted one after another
    are validated while this process goes on; without a worker, here and at once."""
    from concurrent.futures.process import BrokenProcessPool

    kwargs = {"year": year, "list_year": list_year, "parameters": parameters}
    future = submit(validate_here, name, frame, **kwargs)
    if future is None:
        done = validate_here(name, frame, **kwargs)
        return lambda: done

    def outcome() -> list[Outcome]:
        try:
            return future.result()
        except BrokenProcessPool:  # the worker died: validate here from now on
            _worker.pop("pool", None)
            return validate_here(name, frame, **kwargs)

    return outcome


def run_suite(name: str, frame: pd.DataFrame, **kwargs: Any) -> list[Outcome]:
    """Validate `frame` against `expectations/<name>.json` (keywords of `validate_here`); one
    Outcome per expectation (in the worker process when one was started, else here)."""
    return submit_suite(name, frame, **kwargs)()


def validate_here(
    name: str,
    frame: pd.DataFrame,
    *,
    year: int | None,
    list_year: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> list[Outcome]:
    """Validate `frame` against `expectations/<name>.json`; one Outcome per expectation.

    `year` is the year an outcome names; for suites whose expectations carry `year_offset`
    the year is `list_year + year_offset`.
    """
    from great_expectations.core import ExpectationSuite

    spec = load_suite(name)
    suite_meta = spec.get("meta", {})
    id_column = suite_meta.get("id_column")
    suite = ExpectationSuite(name=name, expectations=spec["expectations"])
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    res = batch.validate(suite, result_format=RESULT_FORMAT, expectation_parameters=parameters or {})
    by_id = {r.expectation_config.meta["id"]: r for r in res.results}
    out = []
    for exp in spec["expectations"]:  # the suite file's order
        meta = exp["meta"]
        r = by_id[meta["id"]]
        observed: dict[str, Any] = {}
        if r.exception_info and r.exception_info.get("raised_exception"):
            observed["exception"] = _exception_class(r.exception_info)
            success = False
        else:
            success = bool(r.success)
            for k in SAFE_KEYS:
                if k in (r.result or {}):
                    if k == "observed_value" and exp["type"] not in OBSERVED_VALUE_TYPES:
                        continue
                    observed[k] = _plain(r.result[k])
        y = year
        if "year_offset" in meta and list_year is not None:
            y = list_year + int(meta["year_offset"])
        areas: tuple[str, ...] = ()
        if not success and id_column and id_column in frame.columns and "exception" not in observed:
            areas = failing_ids(exp, frame, id_column, parameters or {})
        out.append(
            Outcome(
                suite=name,
                check=meta["id"],
                expectation_type=exp["type"],
                severity=meta["severity"],
                success=success,
                table=meta.get("table", suite_meta.get("table", name)),
                column=meta.get("column"),
                year=y,
                description=meta["description"],
                observed=observed,
                areas=areas,
            )
        )
    return out


def _exception_class(info: dict) -> str:
    # The class name only: a message could quote a value.
    msg = str(info.get("exception_message") or "")
    head = msg.split(":", 1)[0].strip()
    return head if head.isidentifier() else "evaluation error"


MAX_AREAS = 50


def failing_ids(exp: dict, frame: pd.DataFrame, id_column: str, params: dict) -> tuple[str, ...]:
    """Ids of the housing areas (public) that fail a per-row rule, for the report; at most 50."""
    kw = exp["kwargs"]
    col = kw.get("column")
    if col is None or col not in frame.columns:
        return ()
    s = frame[col]
    t = exp["type"]
    import pandas as pd

    if t == "expect_column_values_to_be_between":
        bad = pd.Series(False, index=frame.index)
        if kw.get("min_value") is not None:
            bad |= s < kw["min_value"]
        if kw.get("max_value") is not None:
            bad |= s > kw["max_value"]
        bad &= s.notna()
    elif t == "expect_column_values_to_be_in_set":
        vs = kw["value_set"]
        if isinstance(vs, dict):
            vs = params.get(vs.get("$PARAMETER"), [])
        bad = s.notna() & ~s.isin(list(vs))
    else:
        return ()
    ids = frame.loc[bad, id_column].dropna().astype(str).drop_duplicates().sort_values()
    return tuple(ids.head(MAX_AREAS))
