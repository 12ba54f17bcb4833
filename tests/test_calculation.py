"""The calculation on hand-built worlds: one test per edge of METHOD.md, values computed by hand.

Most worlds are tiny, so they use a copy of the rule set with `min_residents = 1`; the tests of
eligibility itself use the real threshold of 1,000.
"""

from __future__ import annotations

import tomllib
from fractions import Fraction

import duckdb
import pytest

from pipeline.calculate import yearly_params
from pipeline.rules import RULES_DIR, parse_ruleset, ruleset_in_force
from tests.builders import World, compute_year, row

Y = 2021  # list year: reference date 1 January 2021, data years 2019 (prev) and 2020 (last)


def rules_with(name: str, **changes):
    data = tomllib.loads((RULES_DIR / f"{name}.toml").read_text())
    data.update(changes)
    return parse_ruleset(data, f"test:{name}")


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


def both_years(w: World, n: int, alder: int, area: str | None, **kw) -> list[str]:
    """n persons living in `area` on 1 January Y-1 and Y (aged `alder` on 1 January Y)."""
    pnrs = w.crowd(Y, n, alder, area, **kw)
    for p in pnrs:
        w.person(Y - 1, alder - 1, area, pnr=p, **kw)
    return pnrs


def counts(con, table: str, where: str = "") -> list[tuple]:
    return con.execute(f"select * exclude (params_key) from {table} {where} order by all").fetchall()


# --- who counts: age bands, addresses, moves ---------------------------------------------------


def test_labour_age_band_is_18_to_64_on_1_january_after_the_data_year(con):
    w = World()
    w.area("A")
    for age in (17, 18, 64, 65):
        p = w.person(Y, age, "A")  # 1 January 2021: the population of data year 2020
        w.akm(Y - 1, p, 210)  # unemployed in 2020
    w.load(con)
    compute = rules_with("2021", min_residents=1)
    compute_year(con, Y, compute)
    assert con.execute(
        "select labour_pop, labour_outside from int_yearly_counts where data_year = 2020"
    ).fetchall() == [(2, 2)]


def test_conviction_band_is_18_and_over_and_education_30_to_59(con):
    w = World()
    w.area("A")
    for age in (17, 18, 29, 30, 59, 60, 100):
        p = w.person(Y, age, "A")
        w.kraf(Y - 1, p)
        w.udda(Y - 1, p, 1001)  # grundskole
    w.load(con)
    compute_year(con, Y, rules_with("2021", min_residents=1))
    assert con.execute(
        "select conviction_pop, conviction_convicted from int_yearly_counts where data_year = 2020"
    ).fetchall() == [(6, 6)]
    assert con.execute(
        "select residents, education_pop, education_basic from int_list_counts where list_year = 2021"
    ).fetchall() == [(7, 2, 2)]


def test_income_band_is_15_to_64(con):
    w = World()
    w.area("A")
    for age in (14, 15, 64, 65):
        w.ind(Y - 1, w.person(Y, age, "A"), 100_000.0)
    w.load(con)
    compute_year(con, Y, rules_with("2021", min_residents=1))
    assert con.execute(
        "select income_pop, income_sum_ore from int_list_counts where list_year = 2021"
    ).fetchall() == [(2, 20_000_000)]


def test_null_address_is_in_no_area_but_in_the_national_population(con):
    w = World()
    w.area("A")
    w.person(Y, 40, "A")
    homeless = w.person(Y, 40, None, no_address=True)
    w.kraf(Y - 1, homeless)
    w.person(Y - 1, 39, "A")  # something in the earlier year too
    w.load(con)
    compute_year(con, Y, rules_with("2021", min_residents=1))
    assert con.execute("select count(*) from int_residents where year = 2021").fetchall() == [(1,)]
    assert con.execute(
        "select persons, convicted from int_national_convictions where data_year = 2020"
    ).fetchall() == [(2, 1)]


def test_a_person_who_moved_counts_in_each_year_where_they_lived(con):
    w = World()
    w.area("A")
    w.area("B")
    mover = w.person(Y - 1, 39, "A")  # 1 January 2020: in A -> data year 2019
    w.person(Y, 40, "B", pnr=mover)  # 1 January 2021: in B -> data year 2020
    w.akm(Y - 2, mover, 210)
    w.akm(Y - 1, mover, 210)
    w.load(con)
    compute_year(con, Y, rules_with("2021", min_residents=1))
    got = con.execute(
        "select data_year, area_id, labour_pop, labour_outside from int_yearly_counts order by all"
    ).fetchall()
    assert got == [(2019, "A", 1, 1), (2019, "B", 0, 0), (2020, "A", 0, 0), (2020, "B", 1, 1)]


def test_person_without_akm_record_is_in_the_denominator_only(con):
    w = World()
    w.area("A")
    both_years(w, 3, 40, "A")
    pnrs = [r["pnr"] for r in w.rows["bef"] if r["year"] == Y]
    w.akm(Y - 1, pnrs[0], 210)
    w.akm(Y - 1, pnrs[1], 134)  # employed; pnrs[2] has no record
    w.load(con)
    areas = compute_year(con, Y, rules_with("2021", min_residents=1))
    assert con.execute(
        "select labour_pop, labour_outside from int_yearly_counts where data_year = 2020"
    ).fetchall() == [(3, 1)]
    assert row(areas, "A")["labour_share_last"] == 1 / 3


# --- convictions ---------------------------------------------------------------------------------


def test_convictions_count_a_person_once_and_only_relevant_laws_and_guilty_decisions(con):
    w = World()
    w.area("A")
    p = {k: w.person(Y, 30, "A") for k in ("twice", "traffic", "acquitted", "drugs", "weapons", "special", "fine")}
    w.kraf(Y - 1, p["twice"], "1100001")
    w.kraf(Y - 1, p["twice"], "1200002")
    w.kraf(Y - 1, p["traffic"], "2100001")  # færdselsloven
    w.kraf(Y - 1, p["acquitted"], "1100001", afgtyp=6)  # frifindelse
    w.kraf(Y - 1, p["drugs"], "3100001")  # 31: drugs act (longest prefix beats 3)
    w.kraf(Y - 1, p["weapons"], "3200001")  # 32: weapons act
    w.kraf(Y - 1, p["special"], "3900001")  # 3: other special acts, not relevant
    w.kraf(Y - 1, p["fine"], "1100001", afgtyp=3)  # bøde is guilty
    w.load(con)
    compute_year(con, Y, rules_with("2021", min_residents=1))
    assert con.execute(
        "select conviction_pop, conviction_convicted from int_yearly_counts where data_year = 2020"
    ).fetchall() == [(7, 4)]
    assert con.execute("select count(*) from int_convicted where data_year = 2020").fetchall() == [(4,)]


def _conviction_world(con) -> None:
    w = World()
    w.area("A")
    p = {k: w.person(Y, 30, "A") for k in ("criminal", "drugs", "weapons", "fine", "waived", "acquitted")}
    w.kraf(Y - 1, p["criminal"], "1100001")  # straffeloven, ubetinget frihedsstraf (type 1)
    w.kraf(Y - 1, p["drugs"], "3100001")
    w.kraf(Y - 1, p["weapons"], "3200001")
    w.kraf(Y - 1, p["fine"], "1100001", afgtyp=3)  # bøde
    w.kraf(Y - 1, p["waived"], "1100001", afgtyp=4)  # tiltalefrafald
    w.kraf(Y - 1, p["acquitted"], "1100001", afgtyp=6)  # frifindelse
    w.load(con)


def _with_codes(**codes):
    data = tomllib.loads((RULES_DIR / "2021.toml").read_text())
    data["min_residents"] = 1
    data["codes"] = {**data["codes"], **codes}
    return parse_ruleset(data, "test:codes.toml")


@pytest.mark.parametrize(
    "codes, convicted",
    [
        ({}, 5),  # the code lists: three relevant laws, types 1-5 guilty
        ({"relevant_laws": ["straffeloven"]}, 3),  # criminal, fine, waived
        ({"guilty_decision_types": [1, 2, 3]}, 4),  # tiltalefrafald not counted
        ({"relevant_laws": ["straffeloven", "våbenloven"], "guilty_decision_types": [1, 6]}, 3),  # criminal, weapons, acquitted
    ],
)
def test_relevant_laws_and_guilty_decision_types_are_rule_set_parameters(con, codes, convicted):
    """METHOD.md § 8: the relevant laws and the guilty decision types are parameters of a rule set;
    the area's count and the national share use the same choice."""
    _conviction_world(con)
    rules = _with_codes(**codes)
    compute_year(con, Y, rules)
    assert con.execute("select conviction_pop, conviction_convicted from int_yearly_counts "
                       "where data_year = 2020 and params_key = $k",
                       {"k": yearly_params(rules)["params_key"]}).fetchall() == [(6, convicted)]  # fmt: skip
    assert con.execute("select persons, convicted from int_national_convictions where data_year = 2020 "
                       "and params_key = $k", {"k": yearly_params(rules)["params_key"]}).fetchall() == [(6, convicted)]  # fmt: skip
    assert ("relevant_laws" in rules.parameters()) == ("relevant_laws" in codes)


def test_a_rule_set_naming_an_unknown_law_or_decision_type_is_an_error(con):
    from pipeline.errors import InputError

    _conviction_world(con)
    with pytest.raises(InputError, match=r"codes.relevant_laws has 'straffelov'.*crime_laws.csv") as e:
        compute_year(con, Y, _with_codes(relevant_laws=["straffelov"]))
    assert "test:codes.toml" in str(e.value)
    with pytest.raises(InputError, match=r"codes.guilty_decision_types has 9.*decision_types.csv"):
        compute_year(con, Y, _with_codes(guilty_decision_types=[1, 9]))
    with pytest.raises(InputError, match="relevant_laws must be a non-empty list"):
        _with_codes(relevant_laws="straffeloven")
    with pytest.raises(InputError, match="cannot contain"):
        _with_codes(relevant_laws=["straffeloven|våbenloven"])


@pytest.mark.parametrize(
    "table, key, value, named",
    [
        ("", "transformaton_years", 4, "transformaton_years"),
        ("codes", "relevant_law", ["straffeloven"], "codes.relevant_law"),
        ("ages", "labor", [18, 64], "ages.labor"),
        ("criteria", "employment", {"metric": "labour_share", "op": ">", "value": 0.4}, "criteria.employment"),
        ("criteria.labour", "operator", ">=", "criteria.labour.operator"),
        ("list", "ghetto", {}, "list.ghetto"),
        ("list.transformation", "history_years", 4, "list.transformation.history_years"),
        ("list.prevention.count_of.0", "relative", True, "unknown key list.prevention.count_of[0].relative "),
    ],
)
def test_a_rule_set_with_a_key_it_does_not_know_is_an_error(table, key, value, named):
    """METHOD.md § 8: every parameter is overridable, so a misspelt one must not pass silently."""
    from pipeline.errors import InputError

    data = tomllib.loads((RULES_DIR / "2021.toml").read_text())
    node = data
    for part in filter(None, table.split(".")):
        node = node[int(part)] if part.isdigit() else node[part]
    node[key] = value
    with pytest.raises(InputError, match="unknown key") as e:
        parse_ruleset(data, "test:keys.toml")
    assert named in str(e.value) and "test:keys.toml" in str(e.value)


@pytest.mark.parametrize(
    ("table", "key", "value", "named"),
    [
        ("criteria.labour", "value", "forty", "criteria.labour.value: "),
        ("", "min_residents", 1000.5, "min_residents must be a whole number, not 1000.5"),
        ("", "transformation_years", "5", "transformation_years must be a whole number, not '5'"),
        ("ages", "labour", [18], "ages.labour must be [lowest, highest], not [18]"),
        ("ages", "labour", [18, 64.5], "ages.labour[1] must be a whole number, not 64.5"),
        ("list.vulnerable", "min_count", True, "list.vulnerable.min_count must be a whole number, not True"),
    ],
)
def test_a_rule_set_value_of_the_wrong_kind_is_an_error_naming_its_key(table, key, value, named):
    from pipeline.errors import InputError

    data = tomllib.loads((RULES_DIR / "2021.toml").read_text())
    node = data
    for part in filter(None, table.split(".")):
        node = node[part]
    node[key] = value
    with pytest.raises(InputError) as e:
        parse_ruleset(data, "test:values.toml")
    assert named in str(e.value) and "test:values.toml" in str(e.value), str(e.value)


def test_conviction_criterion_at_exactly_three_times_the_national_share_is_met(con):
    # National (every adult in bef): prev year 2019 (bef 2020): 100 adults, 2 convicted -> 2 %;
    # last year 2020 (bef 2021): 100 adults, 2 convicted -> 2 %. Mean 2 %, threshold 6 %.
    # Area: 50 adults both years, 3 convicted each year -> 6 % = exactly 3 x national: met (mindst).
    w = World()
    w.area("A")
    inside = both_years(w, 50, 40, "A")
    outside = both_years(w, 150, 40, None)
    for year in (Y - 2, Y - 1):
        w.kraf(year, inside[:3])
        w.kraf(year, outside[:1])
    w.load(con)
    areas = compute_year(con, Y, rules_with("2021", min_residents=1))
    r = row(areas, "A")
    assert r["conviction_share"] == 0.06
    assert r["conviction_ratio"] == 3.0
    assert r["crit_conviction"] is True


def test_conviction_just_below_three_times_is_not_met(con):
    # national: 4 of 200 in both years (2 %); area: 3 of 50 in one year, 2 of 50 in the other
    # -> mean 5 % < 6 %; national still 4 of 200 since one more is convicted outside.
    w = World()
    w.area("A")
    inside = both_years(w, 50, 40, "A")
    outside = both_years(w, 150, 40, None)
    w.kraf(Y - 2, inside[:3])
    w.kraf(Y - 2, outside[:1])
    w.kraf(Y - 1, inside[:2])
    w.kraf(Y - 1, outside[:2])
    w.load(con)
    areas = compute_year(con, Y, rules_with("2021", min_residents=1))
    assert row(areas, "A")["crit_conviction"] is False
    assert row(areas, "A")["conviction_share"] == 0.05


# --- thresholds are exact --------------------------------------------------------------------------


def _labour_world(outside_prev: int, outside_last: int, n: int = 1000) -> World:
    w = World()
    w.area("A")
    pnrs = both_years(w, n, 40, "A")
    w.akm(Y - 2, pnrs[:outside_prev], 210)
    w.akm(Y - 1, pnrs[:outside_last], 210)
    return w


def test_400_of_1000_is_exactly_40_percent_and_does_not_exceed_it(con):
    _labour_world(400, 400).load(con)
    r = row(compute_year(con, Y), "A")
    assert r["eligible"] is True
    assert r["labour_share"] == 0.4
    assert r["crit_labour"] is False


def test_401_of_1000_exceeds_40_percent(con):
    _labour_world(401, 401).load(con)
    assert row(compute_year(con, Y), "A")["crit_labour"] is True


def test_mean_of_41_and_39_percent_is_exactly_40_percent(con):
    _labour_world(410, 390).load(con)
    r = row(compute_year(con, Y), "A")
    assert (r["labour_share_prev"], r["labour_share_last"], r["labour_share"]) == (0.41, 0.39, 0.4)
    assert r["crit_labour"] is False


def test_mean_of_shares_versus_pooled(con):
    # prev: 1 of 10 adults outside; last: 9 of 30. Mean of shares: (0.1 + 0.3) / 2 = 0.2.
    # Pooled: (1 + 9) / (10 + 30) = 0.25.
    w = World()
    w.area("A")
    prev = w.crowd(Y - 1, 10, 40, "A")
    last = w.crowd(Y, 30, 40, "A")
    w.akm(Y - 2, prev[:1], 210)
    w.akm(Y - 1, last[:9], 210)
    w.load(con)
    assert row(compute_year(con, Y, rules_with("2021", min_residents=1)), "A")["labour_share"] == 0.2
    pooled = rules_with("2021", min_residents=1, two_year_mean="pooled")
    assert row(compute_year(con, Y, pooled), "A")["labour_share"] == 0.25


def test_education_exactly_60_percent_is_not_met_and_61_is(con):
    for basic, met in ((60, False), (61, True)):
        w = World()
        w.area("A")
        pnrs = w.crowd(Y, 100, 40, "A")
        w.udda(Y - 1, pnrs[:basic], 1001)
        w.udda(Y - 1, pnrs[basic:], 5010)
        c = duckdb.connect()
        w.load(c)
        r = row(compute_year(c, Y, rules_with("2021", min_residents=1)), "A")
        assert r["basic_edu_share"] == basic / 100
        assert r["crit_education"] is met


# --- education cleaning -------------------------------------------------------------------------


def _education_world() -> World:
    w = World()
    w.area("A")
    p = w.crowd(Y, 5, 40, "A")
    w.udda(Y - 1, p[0], 5010, kilde=1)  # professionsbachelor, Danish register: valid, not basic
    w.udda(Y - 1, p[1], 5010, kilde=3)  # self-reported
    w.udda(Y - 1, p[2], 7010, kilde=4)  # imputed
    w.udda(Y - 1, p[3], None, kilde=None)  # record without a code
    # p[4]: no record at all
    return w


def test_self_reported_and_imputed_education_is_removed_from_2018_on(con):
    _education_world().load(con)
    areas = compute_year(con, Y, rules_with("2021", min_residents=1))
    assert con.execute("select education_pop, education_basic from int_list_counts").fetchall() == [(5, 4)]
    assert row(areas, "A")["basic_edu_share"] == 0.8


def test_rule_set_2014_keeps_every_record_with_a_known_code(con):
    _education_world().load(con)
    compute_year(con, 2021, rules_with("2014", min_residents=1))
    # valid: p0, p1, p2 (known codes, none basic); basic: p3 (no code), p4 (no record)
    assert con.execute("select education_pop, education_basic from int_list_counts").fetchall() == [(5, 2)]


# --- income ---------------------------------------------------------------------------------------


def test_income_mean_excludes_students_non_taxable_and_missing_incomes(con):
    w = World()
    w.area("A")  # kom 101, Region Hovedstaden (1084)
    a = {k: w.person(Y, 30, "A") for k in ("w1", "w2", "noakm", "student", "nontax", "noind", "nullinc")}
    w.akm(Y - 1, [a["w1"], a["w2"], a["nontax"], a["noind"], a["nullinc"]], 134)
    w.akm(Y - 1, a["student"], 310)
    w.ind(Y - 1, [a["w1"], a["w2"]], 100_000.0)
    w.ind(Y - 1, a["noakm"], 250_000.55)
    w.ind(Y - 1, a["student"], 0.0)
    w.ind(Y - 1, a["nontax"], 0.0, taxable=False)
    w.ind(Y - 1, a["nullinc"], None)
    # the rest of the region (outside every area): two persons, one in another region
    o1 = w.person(Y, 50, None, kom=147)  # Frederiksberg, Region Hovedstaden
    o2 = w.person(Y, 50, None, kom=751)  # Aarhus, Region Midtjylland
    w.ind(Y - 1, o1, 649_999.45)
    w.ind(Y - 1, o2, 1_000_000.0)
    w.load(con)
    r = row(compute_year(con, Y, rules_with("2021", min_residents=1)), "A")
    area_sum = 10_000_000 + 10_000_000 + 25_000_055  # øre
    region_sum = area_sum + 64_999_945
    assert r["area_mean_income"] == float(Fraction(area_sum, 3 * 100))
    assert r["region_mean_income"] == float(Fraction(region_sum, 4 * 100))
    assert r["income_ratio"] == float(Fraction(area_sum * 4, 3 * region_sum))
    assert r["region"] == 1084


def test_incomes_are_rounded_to_ore_half_away_from_zero_on_their_decimal_value(con):
    # 1.005 and 0.285 DKK are 101 and 29 øre (as doubles times 100 they are 100.4999... and
    # 28.4999..., which a rounding of the double would make 100 and 28); -1.005 is -101 øre
    w = World()
    w.area("A")
    pa, pb, pc = w.crowd(Y, 3, 40, "A")
    w.ind(Y - 1, [pa], 1.005)
    w.ind(Y - 1, [pb], 0.285)
    w.ind(Y - 1, [pc], -1.005)
    w.load(con)
    r = row(compute_year(con, Y, rules_with("2021", min_residents=1)), "A")
    assert r["area_mean_income"] == float(Fraction(101 + 29 - 101, 3 * 100))
    assert r["region_mean_income"] == r["area_mean_income"]


@pytest.mark.parametrize("table", ["int_national_counts", "int_list_counts"])
def test_ore_fast_path_equals_the_decimal_rounding_on_ten_million_incomes(table):
    # The øre of an income, as each SQL file writes it (the double rounded, unless near a half),
    # against the exact rounding on the decimal value (8 places), the only definition: equal on
    # random incomes of every magnitude, on every half øre in +-10,000 DKK and the doubles next to
    # it, on whole and two-decimal amounts, around the 10 M DKK limit of the fast path, and null.
    import re

    from pipeline.warehouse import sql_text

    expr = re.search(r"case\s+when abs\(ind\.perindkialt_13\).*?\bend\b", sql_text(table), re.S).group(0)
    fast_path = re.search(r"when\s+(.*?)\s+then", expr, re.S).group(1)
    exact = "cast(round(cast(ind.perindkialt_13 as decimal(38, 8)) * 100) as bigint)"
    con = duckdb.connect()
    try:
        con.execute("select setseed(0.16)")
        con.execute("""
            create table ind as
            with halves as (select (cast(k as double) + 0.5) / 100 as h from range(-1000000, 1000000) r(k))
            select (random() - 0.5) * pow(10, cast(random() * 18 as integer) - 6) as perindkialt_13 from range(3000000)
            union all select h from halves
            union all select nextafter(h, 1e300) from halves
            union all select nextafter(h, -1e300) from halves
            union all select round((random() - 0.5) * 4e6, 2) from range(1000000)
            union all select round((random() - 0.5) * 4e6) from range(500000)
            union all select 1e7 + k / 1000 from range(-2000, 2000) r(k)
            union all select -1e7 + k / 1000 from range(-2000, 2000) r(k)
            union all select null
        """)
        differ, fast, rows = con.execute(
            f"select count(*) filter (where ({expr}) is distinct from {exact}), "
            f"count(*) filter (where {fast_path}), count(*) from ind"
        ).fetchall()[0]
    finally:
        con.close()
    assert rows > 10_000_000
    assert differ == 0
    assert 1_000_000 < fast < rows - 1_000_000  # both paths are well taken


def test_income_ratio_exactly_55_percent_is_not_below(con):
    # area: 2 persons at 55,000 -> mean 55,000; region: + 2 persons at 145,000 -> mean 100,000.
    w = World()
    w.area("A")
    w.ind(Y - 1, w.crowd(Y, 2, 40, "A"), 55_000.0)
    w.ind(Y - 1, w.crowd(Y, 2, 40, None), 145_000.0)
    w.load(con)
    r = row(compute_year(con, Y, rules_with("2021", min_residents=1)), "A")
    assert r["income_ratio"] == 0.55
    assert r["crit_income"] is False


# --- eligibility and lists ------------------------------------------------------------------------


def national_crime(w: World) -> None:
    """Ten adults outside every area, one convicted in each data year: the national share is
    not 0, so an area without convictions does not meet C2 by tying with a zero threshold."""
    outside = both_years(w, 10, 40, None)
    w.kraf(Y - 2, outside[0])
    w.kraf(Y - 1, outside[0])


def _deprived_area(w: World, area: str, n: int, nonwestern: int) -> list[str]:
    """n residents aged 40 both years, all outside the labour market, all with basic schooling,
    `nonwestern` of them Somali immigrants."""
    if not any(r["adresse_id"] == "ADR-OUT" for r in w.rows["bef"]):
        national_crime(w)
    pnrs = both_years(w, nonwestern, 40, area, ie_type=2, opr_land="SOM")
    pnrs += both_years(w, n - nonwestern, 40, area)
    w.akm(Y - 2, pnrs, 210)
    w.akm(Y - 1, pnrs, 210)
    w.udda(Y - 1, pnrs, 1001)
    return pnrs


def test_999_residents_is_not_eligible_and_publishes_only_residents(con):
    w = World()
    w.area("A")
    w.area("B")
    _deprived_area(w, "A", 999, 999)
    _deprived_area(w, "B", 1000, 1000)
    w.load(con)
    areas = compute_year(con, Y)
    a, b = row(areas, "A"), row(areas, "B")
    assert (a["residents"], a["eligible"], b["residents"], b["eligible"]) == (999, False, 1000, True)
    for col in ("labour_share", "conviction_share", "basic_edu_share", "income_ratio", "nonwestern_share",
                "area_mean_income", "region_mean_income", "crit_labour", "n_criteria"):  # fmt: skip
        assert a[col] is None, col
    assert (a["vulnerable"], a["parallel"], a["prevention"], a["years_on_parallel_list"]) == (False, False, False, 0)
    assert (b["vulnerable"], b["parallel"], b["n_criteria"]) == (True, True, 2)


def test_parallel_needs_more_than_half_non_western(con):
    w = World()
    w.area("A")
    w.area("B")
    _deprived_area(w, "A", 1000, 500)  # exactly 50 %: not over
    _deprived_area(w, "B", 1000, 501)
    w.load(con)
    areas = compute_year(con, Y)
    assert (row(areas, "A")["vulnerable"], row(areas, "A")["parallel"]) == (True, False)
    assert (row(areas, "B")["vulnerable"], row(areas, "B")["parallel"]) == (True, True)


def test_prevention_is_never_on_top_of_vulnerable(con):
    w = World()
    w.area("A")  # vulnerable (labour + education) and 40 % non-western: meets prevention's terms too
    w.area("B")  # softer: labour 35 %, basic education 65 %, but 20 % non-western -> on no list
    _deprived_area(w, "A", 10, 4)
    pnrs = both_years(w, 4, 40, "B", ie_type=3, opr_land="TUR") + both_years(w, 16, 40, "B")
    w.akm(Y - 2, pnrs[:7], 210)
    w.akm(Y - 1, pnrs[:7], 210)
    w.udda(Y - 1, pnrs[:13], 1001)
    w.udda(Y - 1, pnrs[13:], 5010)
    w.load(con)
    areas = compute_year(con, Y, rules_with("2021", min_residents=1))
    a, b = row(areas, "A"), row(areas, "B")
    assert (a["vulnerable"], a["prevention"]) == (True, False)
    assert (b["labour_share"], b["basic_edu_share"], b["nonwestern_share"]) == (0.35, 0.65, 0.2)
    assert (b["vulnerable"], b["prevention"]) == (False, False)  # 20 % non-western: not over 30 %


def test_prevention_area(con):
    w = World()
    w.area("B")
    national_crime(w)
    pnrs = both_years(w, 7, 40, "B", ie_type=3, opr_land="TUR") + both_years(w, 13, 40, "B")
    w.akm(Y - 2, pnrs[:7], 210)  # 35 %
    w.akm(Y - 1, pnrs[:7], 210)
    w.udda(Y - 1, pnrs[:13], 1001)  # 65 %
    w.udda(Y - 1, pnrs[13:], 5010)
    w.load(con)
    b = row(compute_year(con, Y, rules_with("2021", min_residents=1)), "B")
    assert (b["nonwestern_share"], b["n_criteria"], b["vulnerable"], b["prevention"]) == (0.35, 1, False, True)


def test_combined_letting_at_5000_residents(con):
    # rule set 2018: labour share 35 % (>= 30 %, < 40 %): listed only with at least 5,000 residents.
    for n, listed in ((4999, False), (5000, True)):
        w = World()
        w.area("A")
        pnrs = both_years(w, n, 40, "A")
        k = 1750  # 35 % of 5,000; 35.007 % of 4,999
        w.akm(Y - 2, pnrs[:k], 210)
        w.akm(Y - 1, pnrs[:k], 210)
        c = duckdb.connect()
        w.load(c)
        r = row(compute_year(c, Y, ruleset_in_force(2019)), "A")
        assert r["ruleset"] == "2018"
        assert r["combined_letting"] is listed, n


def test_combined_letting_at_exactly_40_percent(con):
    w = World()
    w.area("A")
    pnrs = both_years(w, 10, 40, "A")
    w.akm(Y - 2, pnrs[:4], 210)
    w.akm(Y - 1, pnrs[:4], 210)
    w.load(con)
    r = row(compute_year(con, Y, rules_with("2018", min_residents=1)), "A")
    assert (r["labour_share"], r["crit_labour"], r["combined_letting"]) == (0.4, False, True)


def test_rule_set_switch_2017_to_2018_conviction_fixed_share_versus_national_multiple(con):
    # Area: 3 % of adults convicted each year (> 2.70 %); national 2 % (area is 1.5 x national).
    w = World()
    w.area("A")
    inside = both_years(w, 100, 40, "A")
    outside = both_years(w, 200, 40, None)
    for year in (Y - 2, Y - 1):
        w.kraf(year, inside[:3])
        w.kraf(year, outside[:3])
    w.load(con)
    r2014 = row(compute_year(con, Y, rules_with("2014", min_residents=1)), "A")
    r2018 = row(compute_year(con, Y, rules_with("2018", min_residents=1)), "A")
    assert r2014["conviction_share"] == 0.03
    assert r2014["crit_conviction"] is True
    assert r2018["crit_conviction"] is False
    assert r2018["conviction_ratio"] == 1.5


def test_rule_set_in_force_by_list_year():
    assert [ruleset_in_force(y).name for y in (2014, 2017, 2018, 2020, 2021, 2026)] == [
        "2014", "2014", "2018", "2018", "2021", "2021"
    ]  # fmt: skip


def test_2014_ghetto_needs_three_of_five_and_counts_all_five(con):
    w = World()
    w.area("A")
    _deprived_area(w, "A", 10, 6)  # labour 100 %, education 100 %, non-western 60 %: 3 of 5
    w.area("B")
    _deprived_area(w, "B", 10, 5)  # non-western 50 %: 2 of 5
    w.load(con)
    areas = compute_year(con, Y, rules_with("2014", min_residents=1))
    a, b = row(areas, "A"), row(areas, "B")
    assert (a["n_criteria"], a["parallel"], a["vulnerable"], a["transformation"]) == (3, True, False, False)
    assert (b["n_criteria"], b["parallel"]) == (2, False)


def test_boundary_independent_tables_are_kept_only_while_their_input_files_are_unchanged(con, monkeypatch):
    """int_convicted (and the national counts) are kept by a rerun when computed from exactly the
    files now ingested (meta_ingest SHA-256), by the same SQL and parameters, with every row still
    there; anything else: recomputed."""
    from pipeline import calculate
    from pipeline.calculate import convicted_inputs, kept_keys, run_sql_table_kept
    from pipeline.ingest import ensure_meta_tables

    w = World()
    w.area("A")
    p = w.person(Y, 30, "A")
    w.kraf(Y - 1, p, "1100001")
    w.load(con)
    ensure_meta_tables(con)
    for table in ("kraf", "ref_crime_laws", "ref_decision_types"):
        con.execute("insert into meta_ingest values (?, ?, 'test', ?, 1, null)",
                    [table, Y - 1 if table == "kraf" else None, f"sha-{table}"])
    t = Y - 1

    keys = {"data_year": t, "crime_key": "reference"}
    params = calculate.convicted_params(t, ruleset_in_force(Y))

    def run() -> bool:
        return run_sql_table_kept(con, "int_convicted", keys, params, convicted_inputs(t))

    def convicted() -> int:
        return con.execute("select count(*) from int_convicted where data_year = $t", {"t": t}).fetchall()[0][0]

    assert run() is False and convicted() == 1  # computed
    assert kept_keys(con, "int_convicted", convicted_inputs(t)) == [keys]
    con.execute("delete from int_convicted")
    assert run() is False and convicted() == 1  # rows missing: recomputed
    con.execute("delete from stg_kraf")  # (only meta_ingest says which file is loaded)
    assert run() is True and convicted() == 1  # same files: kept, not recomputed
    con.execute("update meta_ingest set sha256 = 'another file' where table_name = 'kraf'")
    assert kept_keys(con, "int_convicted", convicted_inputs(t)) == []
    assert run() is False and convicted() == 0  # another kraf file: recomputed from it
    assert run() is True
    sql_text = calculate.sql_text
    monkeypatch.setattr(calculate, "sql_text", lambda name: ("-- changed\n" if name == "int_convicted" else "") + sql_text(name))
    assert run() is False  # another SQL: recomputed
    assert run() is True
    # other parameters, or another upstream SQL: recorded differently
    assert calculate._params_hash({"data_year": t}) != calculate._params_hash({"data_year": t + 1})
    fingerprint = calculate._inputs_fingerprint
    assert fingerprint(con, "int_convicted", convicted_inputs(t), (), "") != fingerprint(
        con, "int_convicted", convicted_inputs(t), ("int_residents",), "")
    con.execute("delete from meta_ingest where table_name = 'ref_crime_laws'")
    assert run() is False  # an input whose file is unknown: always computed
    assert run() is False


def test_a_meta_inputs_table_of_an_earlier_layout_is_replaced(con):
    """A warehouse whose meta_inputs has no row counts (an earlier layout) is recomputed, not broken."""
    from pipeline.calculate import run_sql_table_kept
    from pipeline.ingest import ensure_meta_tables

    w = World()
    w.area("A")
    w.kraf(Y - 1, w.person(Y, 30, "A"), "1100001")
    w.load(con)
    ensure_meta_tables(con)
    for table in ("kraf", "ref_crime_laws", "ref_decision_types"):
        con.execute("insert into meta_ingest values (?, ?, 'test', ?, 1, null)",
                    [table, Y - 1 if table == "kraf" else None, f"sha-{table}"])
    con.execute("create table meta_inputs (table_name varchar, keys varchar, inputs varchar, rows bigint)")
    from pipeline.calculate import convicted_params

    args = ("int_convicted", {"data_year": Y - 1, "crime_key": "reference"}, convicted_params(Y - 1, ruleset_in_force(Y)),
            [("kraf", Y - 1), ("ref_crime_laws", None), ("ref_decision_types", None)])
    assert run_sql_table_kept(con, *args) is False
    assert run_sql_table_kept(con, *args) is True
