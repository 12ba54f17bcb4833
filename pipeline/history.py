"""History (METHOD.md § 6): years on the parallel list, transformation and development plans.

Pure functions on sets of area ids, so they can be tested, and back-tested on the published
lists, without a warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.errors import InputError

# From this list year on, transformation (hard-ghetto) status and development plans exist, and
# every list year from FIRST_RULESET_YEAR up to the list year must be known.
TRANSFORMATION_FROM = 2018
FIRST_RULESET_YEAR = 2014
MODES = ("official", "recompute")


@dataclass(frozen=True)
class YearStatus:
    """Who was on the lists in one list year, and where that came from."""

    year: int
    source: str  # "file" or "computed"
    parallel: frozenset[str]
    # The file's transformation rows for that year, or the computed transformation list; None when
    # the file has no transformation rows for the year: then it is derived from the parallel runs.
    transformation: frozenset[str] | None = None
    has_transformation: bool = True  # the rule set of that year has a transformation list
    transformation_years: int = 5


def plan_sources(
    list_year: int,
    mode: str,
    file_years: Iterable[int],
    computable_years: Iterable[int],
    history_file: str = "history/lists.csv",
) -> dict[int, str]:
    """Where the status of each earlier list year comes from: "file" or "computed".

    `file_years`: list years the history file covers (at least one row). `computable_years`: list
    years whose registers are all present. Years before the earliest known year count as not
    listed and are not in the plan; for list year ≥ 2018 every year from 2014 on is required.
    Raises InputError naming the first year that cannot be resolved.
    """
    if mode not in MODES:
        raise InputError(f"history mode must be one of {', '.join(MODES)}, not {mode!r}")
    file_years, computable_years = set(file_years), set(computable_years)
    earliest = min(file_years | computable_years | {list_year})
    start = min(earliest, FIRST_RULESET_YEAR) if list_year >= TRANSFORMATION_FROM else earliest
    order = ("file", "computed") if mode == "official" else ("computed", "file")
    plan: dict[int, str] = {}
    for y in range(start, list_year):
        available = {"file": y in file_years, "computed": y in computable_years}
        source = next((s for s in order if available[s]), None)
        if source is None:
            why = (f"list years before {FIRST_RULESET_YEAR} exist only as history rows" if y < FIRST_RULESET_YEAR
                   else f"not every register extract list year {y} reads is present")  # fmt: skip
            raise InputError(
                f"the history of list year {list_year} needs list year {y}, which is neither in the "
                f"history file nor computable from the registers ({why})",
                file=history_file,
                year=y,
            )
        plan[y] = source
    return plan


@dataclass(frozen=True)
class HistoryFlags:
    years_on_parallel_list: dict[str, int]
    transformation: frozenset[str]
    development_plan: frozenset[str]
    # per earlier year, the transformation list as resolved (for reports and back-tests)
    transformation_by_year: dict[int, frozenset[str]]


def history_flags(
    list_year: int,
    current_parallel: Iterable[str],
    current_has_transformation: bool,
    transformation_years: int,
    earlier: Mapping[int, YearStatus],
) -> HistoryFlags:
    """Run lengths on the parallel list ending in `list_year`, transformation and development plans.

    `earlier` holds the resolved status of earlier list years (see `plan_sources`); a year missing
    from it counts as not listed (it is before the earliest known year). The current year's
    transformation list = parallel in each of the last `transformation_years` list years, the
    current one included (only when the current rule set has a transformation list).
    """
    run: dict[str, int] = {}
    development: set[str] = set()
    trans_by_year: dict[int, frozenset[str]] = {}
    years = sorted(y for y in earlier if y < list_year)
    prev_year: int | None = None
    for y in years:
        st = earlier[y]
        if prev_year is not None and y != prev_year + 1:
            run = {}  # a gap: the years in between count as not listed
        run = {a: run.get(a, 0) + 1 for a in st.parallel}
        if st.transformation is not None:
            trans = frozenset(st.transformation)
        elif st.has_transformation and y >= TRANSFORMATION_FROM:
            trans = frozenset(a for a, n in run.items() if n >= st.transformation_years)
        else:
            trans = frozenset()
        trans_by_year[y] = trans
        if y >= TRANSFORMATION_FROM:
            development |= trans
        prev_year = y
    if prev_year is not None and prev_year != list_year - 1:
        run = {}
    current = set(current_parallel)
    run = {a: run.get(a, 0) + 1 for a in current}
    if current_has_transformation and list_year >= TRANSFORMATION_FROM:
        transformation = frozenset(a for a, n in run.items() if n >= transformation_years)
    else:
        transformation = frozenset()
    trans_by_year[list_year] = transformation
    if list_year >= TRANSFORMATION_FROM:
        development |= transformation
    return HistoryFlags(run, transformation, frozenset(development), trans_by_year)


def file_statuses(
    rows: Iterable[tuple[str, int, str]], known_area_ids: set[str] | None = None
) -> tuple[dict[int, YearStatus], int]:
    """History-file rows (area_id, list_year, list) as statuses per list year.

    Rows of an area id not in the boundary version in use are ignored (returned as a count for the
    warning). A year is covered when it has at least one row, even an ignored one; likewise it has
    transformation rows (which then are its transformation list, METHOD.md § 6) when it has one,
    even of an ignored area: its list is then the rows of the known areas, possibly none, and is
    not derived from the parallel runs.
    """
    parallel: dict[int, set[str]] = {}
    trans: dict[int, set[str]] = {}
    covered: set[int] = set()
    ignored = 0
    for area_id, year, lst in rows:
        covered.add(int(year))
        if lst != "parallel":
            trans.setdefault(int(year), set())
        if known_area_ids is not None and area_id not in known_area_ids:
            ignored += 1
            continue
        (parallel if lst == "parallel" else trans).setdefault(int(year), set()).add(area_id)
    out = {
        y: YearStatus(
            year=y,
            source="file",
            parallel=frozenset(parallel.get(y, ())),
            transformation=frozenset(trans[y]) if y in trans else None,
        )
        for y in sorted(covered)
    }
    return out, ignored
