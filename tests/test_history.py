"""History (METHOD.md § 6): pure functions, and the back-test on the published lists 2012-2019."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from pipeline.errors import InputError
from pipeline.history import YearStatus, file_statuses, history_flags, plan_sources
from pipeline.rules import ruleset_in_force
from tests.builders import World, compute_year, row
from tests.test_calculation import Y, _deprived_area, rules_with

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "official" / "lists_2012_2019.csv"


def st(year: int, parallel: set[str], transformation: set[str] | None = None, *, has_t: bool | None = None):
    return YearStatus(
        year, "file", frozenset(parallel),
        None if transformation is None else frozenset(transformation),
        has_transformation=year >= 2018 if has_t is None else has_t,
    )  # fmt: skip


def test_transformation_after_five_years_including_the_current_one():
    earlier = {y: st(y, {"A", "B"}) for y in range(2014, 2018)}  # A, B on 2014-2017
    earlier[2016] = st(2016, {"A"})  # B had a gap in 2016
    f = history_flags(2018, {"A", "B"}, True, 5, earlier)
    assert f.years_on_parallel_list == {"A": 5, "B": 2}
    assert f.transformation == {"A"}
    assert f.development_plan == {"A"}


def test_four_years_is_not_enough():
    earlier = {y: st(y, {"A"}) for y in range(2015, 2018)}
    f = history_flags(2018, {"A"}, True, 5, earlier)
    assert f.years_on_parallel_list == {"A": 4}
    assert f.transformation == frozenset()


def test_not_on_the_list_this_year_means_zero_years_and_no_transformation():
    earlier = {y: st(y, {"A"}) for y in range(2013, 2019)}
    f = history_flags(2019, set(), True, 5, earlier)
    assert f.years_on_parallel_list == {}
    assert f.transformation == frozenset()
    assert f.development_plan == {"A"}  # transformation area in 2018


def test_development_plan_is_kept_after_leaving_the_lists():
    earlier = {y: st(y, {"A"}) for y in range(2015, 2020)}  # transformation in 2019
    earlier.update({y: st(y, set()) for y in (2020, 2021, 2022)})
    f = history_flags(2023, set(), True, 5, earlier)
    assert f.transformation_by_year[2019] == {"A"}
    assert f.development_plan == {"A"}
    assert f.years_on_parallel_list == {}


def test_years_before_2018_give_no_transformation_or_plan():
    earlier = {y: st(y, {"A"}) for y in range(2010, 2017)}
    f = history_flags(2017, {"A"}, False, 5, earlier)
    assert f.years_on_parallel_list == {"A": 8}
    assert f.transformation == frozenset() and f.development_plan == frozenset()


def test_an_area_listed_since_2010_is_in_its_15th_year_in_2024():
    earlier = {y: st(y, {"A"}) for y in range(2010, 2024)}
    assert history_flags(2024, {"A"}, True, 5, earlier).years_on_parallel_list == {"A": 15}


def test_file_transformation_rows_win_over_derivation():
    earlier = {y: st(y, {"A", "B"}) for y in range(2014, 2018)}
    earlier[2018] = st(2018, {"A", "B"}, transformation={"B"})  # the file says only B in 2018
    f = history_flags(2019, set(), True, 5, earlier)
    assert f.transformation_by_year[2018] == {"B"}
    assert f.development_plan == {"B"}


def test_gap_in_known_years_breaks_the_run():
    # a year missing from `earlier` (before the earliest known) counts as not listed
    earlier = {2012: st(2012, {"A"}), 2014: st(2014, {"A"})}
    assert history_flags(2015, {"A"}, False, 5, earlier).years_on_parallel_list == {"A": 2}


def test_plan_official_prefers_the_file_recompute_prefers_registers():
    file_years, computable = range(2010, 2020), range(2014, 2024)
    official = plan_sources(2024, "official", file_years, computable)
    recompute = plan_sources(2024, "recompute", file_years, computable)
    assert list(official) == list(range(2010, 2024)) == list(recompute)
    assert [official[y] for y in (2010, 2014, 2019, 2020, 2023)] == ["file", "file", "file", "computed", "computed"]
    assert [recompute[y] for y in (2010, 2013, 2014, 2019, 2023)] == ["file", "file", "computed", "computed", "computed"]


def test_plan_errors_name_the_missing_year():
    with pytest.raises(InputError) as err:
        plan_sources(2020, "official", [2014, 2015, 2016], [2018, 2019, 2020])
    assert err.value.year == 2017
    assert str(err.value).endswith(
        "the history of list year 2020 needs list year 2017, which is neither in the history file nor "
        "computable from the registers (not every register extract list year 2017 reads is present)")
    with pytest.raises(InputError) as err:  # registers from 2011 make 2013 "computable" by its data alone
        plan_sources(2024, "official", range(2007, 2013), range(2014, 2025))
    assert err.value.year == 2013
    assert str(err.value).endswith("(list years before 2014 exist only as history rows)")


def test_plan_for_years_before_2018_starts_at_the_earliest_known_year():
    assert plan_sources(2016, "official", [], [2016]) == {}  # nothing known before: not listed
    assert plan_sources(2016, "recompute", [], [2015, 2016]) == {2015: "computed"}
    with pytest.raises(InputError):
        plan_sources(2018, "official", [], [2016, 2017, 2018])  # 2014 and 2015 are needed


def test_history_rows_of_unknown_areas_are_ignored_but_the_year_is_covered():
    statuses, ignored = file_statuses(
        [("A", 2012, "parallel"), ("OLD", 2013, "parallel"), ("A", 2013, "transformation")], {"A"}
    )
    assert ignored == 1
    assert statuses[2012].parallel == {"A"} and statuses[2012].transformation is None
    assert statuses[2013].parallel == frozenset() and statuses[2013].transformation == {"A"}


def test_a_year_whose_transformation_rows_are_all_of_unknown_areas_keeps_the_file_list():
    """METHOD.md § 6: a file year's transformation list is the file's rows when it has any for that
    year. K and OLD were parallel 2014-2018 and the file names only OLD transformation in 2018;
    OLD is not in the boundaries in use. K was not a transformation area in 2018 (the file says
    so), so it gets no development plan; deriving 2018 from the runs would make it one."""
    rows = [(a, y, "parallel") for y in range(2014, 2019) for a in ("K", "OLD")] + [("OLD", 2018, "transformation")]
    statuses, ignored = file_statuses(rows, {"K"})
    assert ignored == 6
    assert statuses[2018].transformation == frozenset() and statuses[2017].transformation is None
    flags = history_flags(2019, set(), True, 5, statuses)
    assert flags.transformation_by_year[2018] == frozenset()
    assert flags.development_plan == frozenset()
    # with OLD's row absent the file has none for 2018, which is then derived: K is listed
    statuses, _ = file_statuses([r for r in rows if r[2] == "parallel"], {"K"})
    assert history_flags(2019, set(), True, 5, statuses).development_plan == {"K"}


def _official() -> tuple[dict[int, set], dict[int, set]]:
    ghetto, hard = defaultdict(set), defaultdict(set)
    with OFFICIAL.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            key = f"{r['area_name']} ({r['municipality']})"
            (ghetto if r["list"] == "ghetto" else hard)[int(r["list_year"])].add(key)
    return ghetto, hard


@pytest.mark.skipif(not OFFICIAL.is_file(), reason="shared/testdata is not beside the repository")
@pytest.mark.parametrize("year", [2018, 2019])
def test_backtest_published_lists_give_the_published_hard_lists(year):
    ghetto, hard = _official()
    assert {y: len(v) for y, v in sorted(ghetto.items())} == {
        2012: 33, 2013: 33, 2014: 31, 2015: 25, 2016: 25, 2017: 22, 2018: 29, 2019: 28
    }  # fmt: skip
    earlier = {y: YearStatus(y, "file", frozenset(ghetto[y])) for y in ghetto if y < year}
    flags = history_flags(year, ghetto[year], True, 5, earlier)
    assert len(hard[year]) == 15
    assert flags.transformation == hard[year]  # exactly the published areas, by name


# --- history in the calculation: official vs recompute on a warehouse --------------------------


def test_history_official_vs_recompute_in_the_warehouse(tmp_path):
    """Area A is parallel in the registers for 2020 and 2021; the history file says it was not on
    the 2020 list. Official: the run ending in 2021 is 1 year; recompute: 2 years."""
    w = World()
    w.area("A")
    w.area("B")
    _deprived_area(w, "A", 10, 8)
    # the same world one year earlier (list year 2020 needs bef 2019/2020, akm/kraf 2018/2019 ...)
    for r in [r for r in w.rows["bef"] if r["year"] == Y - 1]:
        w.rows["bef"].append({**r, "year": Y - 2, "alder": r["alder"] - 1})
    for t in ("akm",):
        for r in [r for r in w.rows[t] if r["year"] == Y - 2]:
            w.rows[t].append({**r, "year": Y - 3})
    for r in [r for r in w.rows["udda"] if r["year"] == Y - 1]:
        w.rows["udda"].append({**r, "year": Y - 2})
    for r in [r for r in w.rows["kraf"] if r["year"] == Y - 2]:
        w.rows["kraf"].append({**r, "year": Y - 3, "afg_dato": r["afg_dato"].replace(year=Y - 3)})
    w.history("B", 2020)  # the file covers 2020; A is not on its list
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    w.load(con)
    rules = {2020: rules_with("2018", min_residents=1), 2021: rules_with("2021", min_residents=1)}
    a2020 = row(compute_year(con, 2020, rules[2020]), "A")
    assert a2020["parallel"] is True
    official = compute_year(con, 2021, rules[2021], plan={2020: "file"}, rules_for_year=rules)
    recompute = compute_year(con, 2021, rules[2021], plan={2020: "computed"}, rules_for_year=rules)
    assert row(official, "A")["years_on_parallel_list"] == 1
    assert row(recompute, "A")["years_on_parallel_list"] == 2
    assert row(official, "B")["years_on_parallel_list"] == 0  # B is not parallel in 2021


def test_transformation_in_the_warehouse_needs_the_current_year_on_the_list(tmp_path):
    w = World()
    w.area("A")
    _deprived_area(w, "A", 10, 8)
    for year in range(2017, 2021):
        w.history("A", year)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    w.load(con)
    rules = rules_with("2021", min_residents=1)
    plan = {y: "file" for y in range(2017, 2021)}
    a = row(compute_year(con, Y, rules, plan=plan, rules_for_year={}), "A")
    assert (a["parallel"], a["years_on_parallel_list"], a["transformation"], a["development_plan"]) == (
        True, 5, True, True,
    )  # fmt: skip
    assert ruleset_in_force(Y).name == "2021"
