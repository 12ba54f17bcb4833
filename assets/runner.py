"""Runs list years through the asset graph, in order, in process (what `boliglister run` does).

The plan for list years A..B:
1. check that every register extract the requested years read exists (an error names the file;
   nothing is run or written);
2. load code lists, boundaries and history (unpartitioned assets);
3. decide, per requested year, which earlier list years its history needs from the registers
   (METHOD.md § 6) and add them to the years to compute;
4. ingest each data year's extracts (skipped when the same file is already in the warehouse),
   residents per 1 January, counts per data year, then per list year in ascending order:
   counts, classification, history, and (requested years only) publication.
Each step is one in-process Dagster run on one partition; the first failure stops everything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from assets.resources import Settings, resources_for
from pipeline import calculate, contract, interrupts
from pipeline.errors import InputError
from pipeline.history import plan_sources
from pipeline.outputs import rejected_folder
from pipeline.warehouse import connect

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# the run tags of a partition range (dagster._core.storage.tags), for assets with a single-run
# backfill policy
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class Step:
    label: str
    assets: tuple[str, ...]
    partition: str | None
    last: str | None = None  # a range of partitions partition..last in one run (single-run assets)


class RunFailed(Exception):
    """A step failed; `str()` is the one line to print, `details` the full error (for --debug)."""

    def __init__(self, line: str, details: str = "") -> None:
        super().__init__(line)
        self.details = details


def _failure_details(result: dg.ExecuteInProcessResult) -> str:
    parts = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE" and event.event_specific_data:
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                parts.append(error.to_string())
    return "\n".join(parts)


def _error_chain(event) -> list:
    """The error of a step or run failure event and its causes, outermost first ([] otherwise)."""
    chain = []
    if event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE") and event.event_specific_data:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            chain.append(error)
            error = getattr(error, "cause", None)
    return chain


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether the run failed because it was interrupted (Ctrl-C, SIGINT), not by an error."""
    return any(error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
               for event in result.all_events for error in _error_chain(event))  # fmt: skip


def _failure_line(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        chain = _error_chain(event)
        if chain:
            error = chain[-1]  # the root cause
            msg = error.message.strip()
            # "pipeline.errors.InputError: file ...: ..." -> the message only
            if ": " in msg and msg.split(": ", 1)[0].rsplit(".", 1)[-1].endswith(("Error", "Exception")):
                msg = msg.split(": ", 1)[1]
            return msg.splitlines()[0] if msg else error.cls_name
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            # a blocking check stops the run only when it fails with ERROR (a WARN never does)
            if (ev is not None and not ev.passed and getattr(ev, "blocking", False)
                    and ev.severity == dg.AssetCheckSeverity.ERROR):  # fmt: skip
                return f"blocking check {ev.check_name} failed on {ev.asset_key.to_user_string()}"
    return "the run failed (run with --debug for details)"


def _all_definitions(settings: Settings):
    from assets.definitions import build_defs

    defs = build_defs(settings)
    return list(defs.assets or []) + list(defs.asset_checks or [])


def _quality_error_line(settings: Settings, step: Step) -> str | None:
    """The one-line data-quality error of a step stopped by a blocking GX check."""
    from pipeline.quality.store import load_result

    if step.partition is None:
        return None
    year = int(step.partition)
    scopes = [(a, year) for a in step.assets if a in contract.REGISTERS] + [("list_year", year)]
    with connect(settings.warehouse_path) as con:
        for scope, y in scopes:
            result = load_result(con, scope, y)
            if result is not None and result.has_errors:
                line = result.error_line()
                # an error about one register extract (its own suite's, or a list year's coverage
                # of it) names the extract's file too
                err, table = result.to_error(), result.errors[0].table
                if table in contract.REGISTERS and err.year is not None:
                    try:
                        err.file = str(contract.find_register_file(settings.data_path, table, int(err.year)))
                        line = err.line()
                    except InputError:
                        pass
                if scope == "list_year":
                    line += f"; report: {rejected_folder(settings.out_path, y) / 'quality'}"
                return line
    return None


_WHERE = re.compile(r"^file (?P<file>.+?)(?:, column (?P<column>[^,:]+))?(?:, year (?P<year>\d{4}))?: ")


def _where_load_stopped(settings: Settings, line: str, needed: list[tuple[str, int]]) -> tuple[str, str | None, int | None]:
    """The register, column and year an ingestion error line names ("file F, column C, year Y:
    ..."), for the report's row: the register whose extract F is, else "registers"."""
    m = _WHERE.match(line)
    if m is None:
        return "registers", None, None
    year = int(m["year"]) if m["year"] else None
    table = "registers"
    for t, y in needed:
        try:
            if str(contract.find_register_file(settings.data_path, t, y)) == m["file"]:
                table, year = t, year if year is not None else y
                break
        except InputError:
            continue
    return table, m["column"], year


def step_runner(settings: Settings, instance: dg.DagsterInstance | None = None) -> Callable[[Step], None]:
    """A function that materialises one step in process; raises RunFailed with the failure line."""
    defs = _all_definitions(settings)
    resources = resources_for(settings)
    instance = instance or dg.DagsterInstance.ephemeral()

    def run(step: Step) -> None:
        tags = {"boliglister/step": step.label}
        if step.last is not None:
            tags.update({RANGE_START: step.partition, RANGE_END: step.last})
        result = dg.materialize(
            defs,
            selection=[dg.AssetKey(a) for a in step.assets],
            partition_key=step.partition if step.last is None else None,
            resources=resources,
            instance=instance,
            raise_on_error=False,
            run_config=QUIET,
            tags=tags,
        )
        if not result.success:
            if _interrupted(result):
                raise KeyboardInterrupt  # Ctrl-C inside the step: the CLI's one line, exit 130
            line = _failure_line(result)
            if line.startswith("blocking check"):
                line = _quality_error_line(settings, step) or line
            raise RunFailed(line, _failure_details(result))

    return run


def missing_registers(data_dir: Path, years: list[int]) -> list[InputError]:
    """The contract's error (naming the file and year) for each extract that list years `years`
    read and that is not in `data_dir` (or is there twice, in two formats), in the order of
    contract.needed_registers."""
    out = []
    for y in years:
        for table, year in contract.needed_registers(y):
            try:
                contract.find_register_file(data_dir, table, year)
            except InputError as exc:
                out.append(exc)
    return out


def _kept(con: duckdb.DuckDBPyConnection, table: str, year: int, sha: str | None) -> bool:
    """The register year needs no ingestion step: the same file (SHA-256 `sha`) is loaded and its
    data-quality suite passed on that very file (its result is kept in the warehouse)."""
    from pipeline.ingest import loaded_unchanged
    from pipeline.quality.store import load_result

    if sha is None or not loaded_unchanged(con, table, year, sha):
        return False
    result = load_result(con, table, year, sha)
    return result is not None and not result.has_errors


def _range_step(label: str, asset: str, a: int, b: int) -> Step:
    """One run of `asset` over the years a..b (a single partition when a == b)."""
    return Step(label, (asset,), str(a), None if a == b else str(b))


def list_years_to_compute(settings: Settings, requested: list[int], con: duckdb.DuckDBPyConnection) -> list[int]:
    """The requested list years and the earlier ones their history computes from the registers
    (METHOD.md § 6), given the loaded history (stg_history). Raises InputError for a year the
    history cannot resolve."""
    data_dir = settings.data_path
    computable = calculate.computable_list_years(data_dir)
    file_years = calculate.history_file_years(con)
    compute: set[int] = set(requested)
    for y in requested:
        try:
            plan = plan_sources(y, settings.history, file_years, computable | set(requested),
                                history_file=str(data_dir / "history" / "lists.csv"))  # fmt: skip
        except InputError as exc:
            raise _missing_history_register(data_dir, y, exc) from None
        compute |= {yr for yr, src in plan.items() if src == "computed"}
    return sorted(compute)


def _missing_history_register(data_dir: Path, list_year: int, exc: InputError) -> InputError:
    """The history of `list_year` needs a year that neither the history file nor the registers
    cover: when the registers hold part of that year's extracts, the error names the first one
    missing (DATA_CONTRACT: a missing extract is an error that names it), else the history file."""
    y = exc.year
    if y is None:
        return exc
    missing = missing_registers(data_dir, [y])
    if not missing or len(missing) == len(contract.needed_registers(y)):
        return exc
    gone = missing[0]
    return InputError(f"{gone.problem}; the history of list year {list_year} computes list year {y} "
                      "from the registers, which the history file does not cover",
                      file=gone.file, year=gone.year)  # fmt: skip


def _register_years(list_years: list[int]) -> dict[int, set[str]]:
    """The register tables each data year must load for `list_years` (DATA_CONTRACT.md)."""
    by_year: dict[int, set[str]] = {}
    for y in list_years:
        for table, year in contract.needed_registers(y):
            by_year.setdefault(year, set()).add(table)
    return by_year


def plan_steps(settings: Settings, requested: list[int], con: duckdb.DuckDBPyConnection) -> list[Step]:
    """The steps for the requested list years, given the loaded history (stg_history)."""
    data_dir = settings.data_path
    list_years = list_years_to_compute(settings, requested, con)
    register_years = _register_years(list_years)
    from pipeline.ingest import ingested_sha256, register_files_sha256

    # only a file already loaded can be kept: hash those (the others are hashed by their ingestion)
    loaded = [(t, y) for y, ts in register_years.items() for t in ts if ingested_sha256(con, t, y) is not None]
    shas = register_files_sha256(data_dir, loaded)
    steps: list[Step] = []
    # The year with the most extracts first (register years load independently of each other):
    # the data-quality suites first needed by its checks then find the GX worker started.
    for year in sorted(register_years, key=lambda y: (-len(register_years[y]), y)):
        tables = tuple(t for t in contract.REGISTERS if t in register_years[year])
        if all(_kept(con, t, year, shas.get((t, year))) for t in tables):
            # e.g. a rerun with corrected boundaries: only the boundary-dependent assets run
            steps.append(Step(f"registers {' '.join(tables)} {year}: unchanged, kept from the warehouse", (), str(year)))
        else:
            steps.append(Step(f"ingest {' '.join(tables)} {year}", tables, str(year)))
    # years that do not depend on each other: each run of consecutive years is one Dagster run
    for a, b in contract.year_runs({s for y in list_years for s in (y - 1, y)}):
        steps.append(_range_step(f"residents 1 January {contract.year_span(a, b)}", "residents", a, b))
    for a, b in contract.year_runs({t for y in list_years for t in (y - 2, y - 1)}):
        label = f"counts of data year {a}" if a == b else f"counts of data years {contract.year_span(a, b)}"
        steps.append(_range_step(label, "yearly_counts", a, b))
    for y in list_years:
        assets = ["list_counts", "classification", "areas"]
        if y in requested:
            assets.append("publication")
        steps.append(Step(f"list year {y}" + (" (publish)" if y in requested else " (history)"), tuple(assets), str(y)))
    return steps


def run_list_years(
    years: list[int],
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Path]:
    """Materialise list years `years` (in order) and publish their outputs; their folders.

    Raises InputError before anything runs when a register extract is missing, RunFailed with
    the failing step's one-line message otherwise. The run's start (UTC) goes to the publications
    through `Settings.run_started` (the manifests' `started`), unless the caller set it already.
    """
    started = settings.run_started or dt.datetime.now(dt.timezone.utc).isoformat()  # a caller's start is kept
    requested = sorted(set(years))
    settings = Settings(**{**settings.model_dump(), "requested_years": requested, "run_started": started})
    for list_year in requested:
        missing = missing_registers(settings.data_path, [list_year])
        if missing:
            # all or nothing: a range is one run, so no year of it is published (the last good
            # outputs of every year stay as they were); the line says which list year reads it
            gone = missing[0]
            nothing = "nothing was published" if len(requested) == 1 else (
                "no list year of " + ", ".join(contract.year_span(a, b) for a, b in contract.year_runs(set(requested)))
                + " was published")
            raise InputError(f"{gone.problem}, read by list year {list_year}; {nothing}",
                             file=gone.file, year=gone.year)  # fmt: skip
    from pipeline.quality import gx_runner

    gx_runner.start_worker()  # GX in a process of its own when not imported yet
    return _run_steps(settings, requested, step_runner(settings, instance), progress, start_imports=_start_slow_imports)


def _start_slow_imports() -> None:
    """Import pandas and the publication's libraries in a background thread while the steps that
    follow run (most of their time is spent in DuckDB, outside the GIL); the quality checks and
    the publication then find them ready. Started once the Python-heavy start (Dagster's
    instance, the first step) is over, not to hold the GIL against it. Only modules this process
    enters by their top package: GX is never imported here (it imports SQLAlchemy, whose
    submodules Dagster imports lazily in the main thread; two threads importing one package with
    circular imports can see it half-initialised). A failure here is ignored: the steps import
    them again and report any error."""
    import threading

    from pipeline.quality import gx_runner

    # the GX worker writes the workbook when it runs (and imports its modules itself)
    workbook_here = not gx_runner.worker_running()

    def load() -> None:
        try:
            import pipeline.quality.validate  # noqa: F401 - pandas (about 0.5 s)
            import pipeline.publish.report  # noqa: F401 - matplotlib, jinja2 (about 1 s)

            if workbook_here:
                import pipeline.publish.workbook  # noqa: F401 - xlsxwriter
        except Exception:  # noqa: BLE001
            pass

    threading.Thread(target=load, name="preload-publication", daemon=True).start()


def _run_steps(settings: Settings, requested: list[int], run: Callable[[Step], None],
               progress: Callable[[str, int, int], None] | None,
               start_imports: Callable[[], None] | None = None) -> list[Path]:  # fmt: skip
    first = Step("code lists, boundaries, history", ("reference", "boundaries", "history"), None)
    if progress:
        progress(first.label, 0, 0)
    # One connection held open for the whole run: every step's connection then attaches to the
    # same open database (DuckDB keeps one instance per file and process), whose buffer pool
    # keeps the tables the steps read one after another, instead of opening, checkpointing and
    # closing the file at each step and reading every table from the file again.
    # Every Ctrl-C is noted (pipeline.interrupts): Dagster drops one that lands after a step's
    # last checkpoint, and the run would go on to the next step and publish.
    with interrupts.watching(), connect(settings.warehouse_path) as con:
        run(first)
        interrupts.raise_if_interrupted()
        steps = plan_steps(settings, requested, con)
        if start_imports is not None:
            start_imports()
        total = len(steps) + 1
        for i, step in enumerate(steps, start=2):
            if progress:
                progress(step.label, i, total)
            if step.assets:
                run(step)
                interrupts.raise_if_interrupted()
    return [settings.out_path / str(y) for y in requested]


def run_check(settings: Settings, year: int | None = None) -> tuple[int, Path, str]:
    """`boliglister check`: ingest (with the blocking checks) and validate every input that
    `boliglister run --year Y` reads: the registers of list year Y and of the earlier list years
    its history computes from the registers (so a run stops on no register that `check` passed),
    the code lists, boundaries and history, and the list-year input suites of each of those years.
    Y defaults to the newest list year whose extracts are all present.

    Returns (exit code, report folder, error line). The report goes to OUT/check/Y/quality/.
    """
    from pipeline import quality
    from pipeline.quality.store import load_result

    if year is None:
        computable = calculate.computable_list_years(settings.data_path)
        if not computable:
            raise InputError("no list year has all its register extracts", file=str(settings.data_path / "registers"))
        year = max(computable)
    missing = missing_registers(settings.data_path, [year])
    if missing:
        raise missing[0]
    settings = Settings(**{**settings.model_dump(), "requested_years": [year]})
    from pipeline.quality import gx_runner

    gx_runner.start_worker()  # GX imports in its own process while the registers load
    run = step_runner(settings)
    folder = settings.out_path / "check" / str(year) / "quality"
    needed: list[tuple[str, int]] = []
    try:
        run(Step("code lists, boundaries, history", ("reference", "boundaries", "history"), None))
        with connect(settings.warehouse_path) as con:
            list_years = list_years_to_compute(settings, [year], con)
        by_year = _register_years(list_years)
        needed = [(t, y) for y, tables in sorted(by_year.items(), reverse=True) for t in contract.REGISTERS if t in tables]
        for y, tables in sorted(by_year.items(), reverse=True):
            run(Step(f"ingest {y}", tuple(t for t in contract.REGISTERS if t in tables), str(y)))
    except RunFailed as exc:
        # a blocking check at ingestion: the report holds what was validated before it stopped
        line = str(exc)
        done = []
        with connect(settings.warehouse_path) as con:
            for table, y in needed:
                stored = load_result(con, table, y)
                if stored is not None:
                    done.append(stored)
        if not any(r.has_errors for r in done):
            # a check at the load itself (columns, types, keys, codes: the file was not loaded, so
            # no suite ran on it): the report says so, with the same line (counts, never values)
            table, column, year_at_fault = _where_load_stopped(settings, line, needed)
            done.append(quality.QualityResult([quality.Outcome(
                suite=quality.INGESTION_SUITE, check="blocking_checks", expectation_type="blocking check at ingestion",
                severity="error", success=False, table=table, column=column, year=year_at_fault, description=line,
            )]))  # fmt: skip
        quality.write_quality_report(done, folder)
        return 1, folder, line
    with connect(settings.warehouse_path) as con:
        # the register suites ran as checks of the ingestion steps (kept in the warehouse)
        result = quality.QualityResult()
        for table, y in needed:
            stored = load_result(con, table, y)
            result.extend(stored if stored is not None else quality.validate_register(con, table, y))
        for y in sorted(list_years, reverse=True):
            result.extend(quality.validate_list_year_inputs(con, y))
        try:  # extracts that store a key column differently would lose rows in the run's joins
            for y in sorted(list_years, reverse=True):
                calculate.check_list_year_keys(con, y)
        except InputError as exc:
            result.extend(quality.QualityResult([quality.Outcome(
                suite="ingestion", check="key_storage", expectation_type="key columns stored alike",
                severity="error", success=False, table="registers", column=exc.column, year=exc.year,
                description=str(exc),
            )]))  # fmt: skip
    quality.write_quality_report([result], folder)
    return (1 if result.has_errors else 0), folder, result.error_line()
