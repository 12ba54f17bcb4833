"""Exact threshold decisions (METHOD.md § 3-5). The one place where a list is decided.

Every share is an exact fraction of integer counts and incomes are whole øre, so
400 of 1,000 is exactly 2/5 and does not exceed 0.40, and a two-year mean of 41 % and 39 %
is exactly 40 %. Floats appear only when a value is reported.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction

from pipeline.rules import Condition, RuleSet

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def share(numerator: int | None, denominator: int | None) -> Fraction | None:
    """n/d as an exact fraction; null when the denominator is 0 (the criterion is then not met)."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return Fraction(int(numerator), int(denominator))


def two_year_mean(prev: tuple[int, int], last: tuple[int, int], method: str) -> Fraction | None:
    """Mean of the two data years' shares ((n1/d1 + n2/d2)/2) or pooled ((n1+n2)/(d1+d2)).

    `prev` and `last` are (numerator, denominator). A year whose denominator is 0 makes it null.
    """
    (n1, d1), (n2, d2) = prev, last
    if not d1 or not d2:
        return None
    if method == "mean_of_shares":
        return (Fraction(n1, d1) + Fraction(n2, d2)) / 2
    if method == "pooled":
        return Fraction(n1 + n2, d1 + d2)
    raise ValueError(f"unknown two-year mean {method!r}")


def income_ratio(area_sum_ore: int, area_n: int, region_sum_ore: int, region_n: int) -> Fraction | None:
    """(area mean income) / (region mean income), exactly, from sums in øre and counts."""
    if not area_n or not region_n or region_sum_ore == 0:
        return None
    return Fraction(int(area_sum_ore) * int(region_n), int(area_n) * int(region_sum_ore))


@dataclass(frozen=True)
class Metrics:
    """The exact values an area is judged on (None = cannot be computed)."""

    residents: int
    labour_share: Fraction | None
    conviction_share: Fraction | None
    basic_edu_share: Fraction | None
    income_ratio: Fraction | None
    nonwestern_share: Fraction | None

    def get(self, metric: str) -> Fraction | int | None:
        return getattr(self, metric)


def met(cond: Condition, m: Metrics, national_share: Fraction | None) -> bool:
    """Whether one condition holds. A null value (or null national share) never meets it."""
    value = m.get(cond.metric)
    if value is None:
        return False
    threshold = cond.value
    if cond.relative_to_national:
        if national_share is None:
            return False
        threshold = cond.value * national_share
    return _OPS[cond.op](value, threshold)


@dataclass(frozen=True)
class Classification:
    eligible: bool
    crit: dict[str, bool | None]  # labour, conviction, education, income, nonwestern
    n_criteria: int | None
    vulnerable: bool
    parallel: bool
    prevention: bool
    combined_letting: bool
    transformation_candidate: bool  # meets the transformation list's non-history requirements


def classify(m: Metrics, rules: RuleSet, national_share: Fraction | None) -> Classification:
    """The criteria and lists of one area for one list year, except the history-based ones."""
    eligible = m.residents >= rules.min_residents
    if not eligible:
        return Classification(False, {k: None for k in rules.criteria}, None, False, False, False, False, False)
    crit = {name: met(c, m, national_share) for name, c in rules.criteria.items()}
    n_criteria = sum(crit[name] for name in rules.n_criteria_of)
    flags: dict[str, bool] = {}

    def on_list(name: str) -> bool:
        if name in flags:
            return flags[name]
        rule = rules.list_rules.get(name)
        if rule is None or name not in rules.lists:
            flags[name] = False
            return False
        ok = all(on_list(r) for r in rule.requires)
        ok = ok and not any(on_list(r) for r in rule.excludes)
        ok = ok and all(met(c, m, national_share) for c in rule.all_of)
        if rule.count_of:
            ok = ok and sum(met(c, m, national_share) for c in rule.count_of) >= rule.min_count
        if rule.any_of:
            ok = ok and any(all(met(c, m, national_share) for c in group) for group in rule.any_of)
        # A history requirement (transformation) is applied later by pipeline.history.
        flags[name] = ok
        return ok

    return Classification(
        eligible=True,
        crit=crit,
        n_criteria=n_criteria,
        vulnerable=on_list("vulnerable"),
        parallel=on_list("parallel"),
        prevention=on_list("prevention"),
        combined_letting=on_list("combined_letting"),
        transformation_candidate=on_list("transformation"),
    )
