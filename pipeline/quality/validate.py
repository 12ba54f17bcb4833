"""The public validation entry points (what the CLI and the Dagster checks call)."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from pipeline.contract import needed_registers
from pipeline.quality import profiles
from pipeline.quality.gx_runner import run_suite, submit_suite
from pipeline.quality.result import QualityResult
from pipeline.contract import AREAS_COLUMNS

LIST_FLAGS = ("vulnerable", "parallel", "transformation", "prevention")
CRIT_FLAGS = ("crit_labour", "crit_conviction", "crit_education", "crit_income", "crit_nonwestern")
BOOL_COLUMNS = (*CRIT_FLAGS, "eligible", *LIST_FLAGS, "combined_letting", "development_plan")


# register suites submitted as soon as their file was loaded: (table, year, sha256) -> outcomes
_submitted: dict[tuple[str, int, str], Any] = {}


def submit_register(con: duckdb.DuckDBPyConnection, table: str, year: int, sha: str) -> None:
    """Start the suite of `stg_<table>` for `year` (the file with SHA-256 `sha`, just loaded) in the
    GX worker process, when one runs: it is validated while the next extract loads, and
    `validate_register(..., sha=sha)` takes its outcomes. Nothing happens without a worker."""
    from pipeline.quality import gx_runner
    from pipeline.quality.store import load_result

    # a file validated before (loaded again unchanged) keeps its result: the check takes that one
    if gx_runner.worker_running() and load_result(con, table, year, sha) is None:
        _submitted[(table, year, sha)] = submit_suite(table, profiles.register_frame(con, table, year), year=year)


def validate_register(con: duckdb.DuckDBPyConnection, table: str, year: int, sha: str | None = None) -> QualityResult:
    """The suite `expectations/<table>.json` on the counts of `stg_<table>` for data year `year`
    (the outcomes of `submit_register` when it started it for the same file)."""
    pending = _submitted.pop((table, year, sha), None) if sha else None
    if pending is not None:
        return QualityResult(pending())
    frame = profiles.register_frame(con, table, year)
    return QualityResult(run_suite(table, frame, year=year))


class Pending:
    """Suites submitted for validation (pipeline.quality.gx_runner.submit_suite); `result()`
    waits for them and gives their QualityResult, in the order submitted."""

    def __init__(self) -> None:
        self._outcomes: list = []

    def add(self, name: str, frame: pd.DataFrame, **kwargs: Any) -> None:
        self._outcomes.append(submit_suite(name, frame, **kwargs))

    def result(self) -> QualityResult:
        out = QualityResult()
        for outcome in self._outcomes:
            out.extend(QualityResult(outcome()))
        return out


def submit_list_year_inputs(con: duckdb.DuckDBPyConnection, list_year: int) -> Pending:
    """Coverage, boundaries and history for list year Y (the rules that join several tables),
    submitted: the frames are measured here, the suites run while the caller goes on."""
    pending = Pending()
    pending.add("coverage", profiles.coverage_frame(con, list_year), year=list_year, list_year=list_year)
    areas, parcels = profiles.boundary_frames(con)
    params = {
        "municipalities": profiles.reference_values(con, "municipalities", "kom"),
        "area_ids": [a for a in areas["area_id"].tolist() if a is not None],
    }
    pending.add("boundary_areas", areas, year=None, parameters=params)
    pending.add("boundary_parcels", parcels, year=None, parameters=params)
    pending.add("boundary_residents", profiles.residents_frame(con, list_year), year=list_year, list_year=list_year)
    pending.add("history", profiles.history_frame(con), year=None, parameters=params)
    return pending


def validate_list_year_inputs(con: duckdb.DuckDBPyConnection, list_year: int) -> QualityResult:
    """Coverage, boundaries and history for list year Y (the rules that join several tables)."""
    return submit_list_year_inputs(con, list_year).result()


def validate_inputs(con: duckdb.DuckDBPyConnection, list_year: int) -> QualityResult:
    """Every input list year Y reads: the register tables of `needed_registers(Y)`, coverage,
    boundaries and history."""
    out = QualityResult()
    for table, year in needed_registers(list_year):
        out.extend(validate_register(con, table, year))
    out.extend(validate_list_year_inputs(con, list_year))
    return out


def _to_pandas(frame: Any) -> pd.DataFrame:
    if frame is None:
        return None
    if isinstance(frame, pd.DataFrame):
        return frame.copy()
    if hasattr(frame, "to_pandas"):  # polars
        return frame.to_pandas()
    return pd.DataFrame(frame)


def _as_bool(s: pd.Series) -> pd.Series:
    """true/false as written in areas.csv, or real (nullable) booleans; null stays null."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    words = {"true": True, "false": False}

    def one(v):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return pd.NA
        if isinstance(v, str):
            return words.get(v.strip().lower(), pd.NA)
        return bool(v)

    return pd.Series([one(v) for v in s], index=s.index, dtype="boolean")


def _ruleset_of(df: pd.DataFrame, rules: Any = None) -> Any:
    """The rule set the areas table was classified with: `rules` when the caller knows it (the run
    does: a `--rules` file may change any parameter), else the built-in one named in its
    `ruleset` column, else the one in force for its list year (the latest when the table lacks
    those columns: the suite's column check then reports it)."""
    if rules is not None:
        return rules
    from pipeline.rules import builtin_names, load_ruleset, ruleset_in_force

    names = df["ruleset"].dropna().astype(str).unique().tolist() if "ruleset" in df.columns else []
    if len(names) == 1 and names[0] in builtin_names():
        return load_ruleset(names[0])
    years = pd.to_numeric(df["list_year"], errors="coerce").dropna().unique() if "list_year" in df.columns else []
    return ruleset_in_force(int(years[0]) if len(years) == 1 else 9999)


def output_frame(areas: Any, rules: Any = None) -> pd.DataFrame:
    """The areas table plus the consistency columns the `areas_output` suite checks, each derived
    from the rule set (`rules`, a pipeline.rules.RuleSet; see `_ruleset_of` when None): its
    `min_residents`, the lists its lists require or exclude, the criteria `n_criteria` counts. A
    relation the rule set does not have is not checked (its column is true)."""
    df = _to_pandas(areas)
    rules = _ruleset_of(df, rules)
    bools = {c: _as_bool(df[c]) for c in BOOL_COLUMNS if c in df.columns}
    n = len(df)

    def flag(c: str) -> pd.Series:
        return bools[c].fillna(False).astype(bool) if c in bools else pd.Series(False, index=df.index)

    def relation(list_name: str, kind: str, other: str) -> bool:
        rule = rules.list_rules.get(list_name)
        return rule is not None and other in getattr(rule, kind)

    residents = pd.to_numeric(df["residents"], errors="coerce") if "residents" in df.columns else pd.Series([pd.NA] * n)
    eligible = flag("eligible")
    derived = pd.DataFrame(index=df.index)
    derived["eligible_matches_residents"] = ((eligible == (residents >= rules.min_residents).fillna(False))
                                             & residents.notna())  # fmt: skip
    derived["parallel_within_vulnerable"] = (~flag("parallel") | flag("vulnerable")
                                             | (not relation("parallel", "requires", "vulnerable")))  # fmt: skip
    derived["transformation_within_parallel"] = (~flag("transformation") | flag("parallel")
                                                 | (not relation("transformation", "requires", "parallel")))  # fmt: skip
    derived["prevention_not_vulnerable"] = (~(flag("prevention") & flag("vulnerable"))
                                            | (not relation("prevention", "excludes", "vulnerable")))  # fmt: skip
    crit = pd.Series(0, index=df.index)
    for c in rules.n_criteria_of:
        crit = crit + flag(f"crit_{c}").astype(int)
    n_crit = pd.to_numeric(df["n_criteria"], errors="coerce") if "n_criteria" in df.columns else pd.Series([pd.NA] * n)
    derived["n_criteria_matches_flags"] = ((eligible & n_crit.notna() & (n_crit == crit).fillna(False))
                                           | (~eligible & n_crit.isna()))
    region_income = (pd.to_numeric(df["region_mean_income"], errors="coerce") if "region_mean_income" in df.columns
                     else pd.Series([float("nan")] * n, index=df.index))  # fmt: skip
    derived["region_income_known"] = ~eligible | region_income.notna()
    derived["ineligible_not_listed"] = eligible | ~(sum(flag(c) for c in (*LIST_FLAGS, "combined_letting")) > 0)
    for c in derived.columns:
        derived[c] = derived[c].astype(bool)
    return pd.concat([df, derived], axis=1)




def _areas_columns(df: pd.DataFrame) -> pd.DataFrame:
    """areas.csv columns in their order (mart_areas carries the same columns, list_year first)."""
    if set(AREAS_COLUMNS) <= set(df.columns) and set(df.columns) == set(AREAS_COLUMNS):
        return df[list(AREAS_COLUMNS)]
    return df


def list_counts_frame(areas: pd.DataFrame, prev: pd.DataFrame, prev_lists: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row: the number of areas on each list in Y and in Y-1, and the change. `prev_lists`:
    the lists `prev` holds (None: all); a list it does not hold (last year from the history file,
    which has only the parallel and transformation lists) is not compared: its Y-1 count is empty
    and its change 0."""
    row: dict[str, Any] = {}
    for flag in LIST_FLAGS:
        n = int(_as_bool(areas[flag]).fillna(False).sum()) if flag in areas.columns else 0
        row[f"{flag}_count"] = n
        if prev_lists is not None and flag not in prev_lists:
            row[f"{flag}_count_prev"] = None
            row[f"{flag}_change"] = 0.0
            continue
        p = int(_as_bool(prev[flag]).fillna(False).sum()) if flag in prev.columns else 0
        row[f"{flag}_count_prev"] = p
        row[f"{flag}_change"] = abs(n - p) / max(p, 20)
    return pd.DataFrame([row]).astype({f"{f}_count_prev": "Int64" for f in LIST_FLAGS})


def submit_outputs(areas: Any, prev_areas: Any = None, rules: Any = None,
                   prev_lists: tuple[str, ...] | None = None) -> Pending:
    """The `areas_output` suite on the areas table of list year Y (pandas or polars), checked
    against the rule set it was classified with (`rules`; see `output_frame`), and the
    `list_counts` suite against last year's table when there is one (holding the lists
    `prev_lists`, None: all; see `list_counts_frame`), submitted."""
    df = _areas_columns(_to_pandas(areas))
    list_year = None
    if "list_year" in df.columns and len(df):
        ys = pd.to_numeric(df["list_year"], errors="coerce").dropna().unique()
        list_year = int(ys[0]) if len(ys) == 1 else None
    pending = Pending()
    pending.add("areas_output", output_frame(df, rules), year=list_year)
    if prev_areas is not None:
        prev = _to_pandas(prev_areas)
        pending.add("list_counts", list_counts_frame(df, prev, prev_lists), year=list_year, list_year=list_year)
    return pending


def validate_outputs(areas: Any, prev_areas: Any = None, rules: Any = None,
                     prev_lists: tuple[str, ...] | None = None) -> QualityResult:
    """`submit_outputs`, waited for."""
    return submit_outputs(areas, prev_areas, rules, prev_lists).result()
