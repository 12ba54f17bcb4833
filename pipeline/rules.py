"""Rule sets as data (METHOD.md § 8): one TOML file each in `pipeline/rules/`.

A rule set is chosen by list year (the newest whose `in_force_from` ≤ Y), or given by name or
file with `--rules`. Thresholds are read as decimals and kept as exact fractions.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

RULES_DIR = Path(__file__).parent / "rules"
OPS = (">", ">=", "<", "<=")
METRICS = (
    "labour_share",
    "conviction_share",
    "basic_edu_share",
    "income_ratio",
    "nonwestern_share",
    "residents",
)
LIST_NAMES = ("vulnerable", "parallel", "transformation", "prevention", "combined_letting")
CRITERIA = ("labour", "conviction", "education", "income", "nonwestern")


def exact(value: Any) -> Fraction:
    """A TOML number as the exact decimal it was written as (0.4 -> 2/5, never 0.40000000000000002)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"not a number: {value!r}")
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    value: Fraction
    relative_to_national: bool = False

    def describe(self) -> str:
        v = float(self.value)
        rhs = f"{v:g} × national share" if self.relative_to_national else f"{v:g}"
        return f"{self.metric} {self.op} {rhs}"

    def as_dict(self) -> dict:
        d: dict[str, Any] = {"metric": self.metric, "op": self.op, "value": float(self.value)}
        if self.relative_to_national:
            d["relative_to_national"] = True
        return d


@dataclass(frozen=True)
class ListRule:
    name: str
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    all_of: tuple[Condition, ...] = ()
    count_of: tuple[Condition, ...] = ()
    min_count: int = 0
    any_of: tuple[tuple[Condition, ...], ...] = ()

    def as_dict(self) -> dict:
        d: dict[str, Any] = {}
        if self.requires:
            d["requires"] = list(self.requires)
        if self.excludes:
            d["excludes"] = list(self.excludes)
        if self.all_of:
            d["all_of"] = [c.as_dict() for c in self.all_of]
        if self.count_of:
            d["count_of"] = [c.as_dict() for c in self.count_of]
            d["min_count"] = self.min_count
        if self.any_of:
            d["any_of"] = [[c.as_dict() for c in g] for g in self.any_of]
        return d


@dataclass(frozen=True)
class RuleSet:
    name: str
    in_force_from: int
    min_residents: int
    two_year_mean: str
    transformation_years: int
    has_transformation: bool
    lists: tuple[str, ...]
    ages: dict[str, tuple[int, int]]
    socio13_outside_group: str
    socio13_student_group: str
    education_valid_sources: str
    criteria: dict[str, Condition]
    n_criteria_of: tuple[str, ...]
    list_rules: dict[str, ListRule]
    # C2's relevant laws (names in crime_laws.csv) and guilty decision types (afg_afgtyp codes in
    # decision_types.csv); None: the code list's own `relevant` and `guilty` columns decide
    relevant_laws: tuple[str, ...] | None = None
    guilty_decision_types: tuple[int, ...] | None = None
    source: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def main_conviction_multiplier(self) -> Fraction | None:
        c = self.criteria["conviction"]
        return c.value if c.relative_to_national else None

    @property
    def prevention_conviction_multiplier(self) -> Fraction | None:
        rule = self.list_rules.get("prevention")
        if rule is None:
            return None
        for c in (*rule.all_of, *rule.count_of):
            if c.metric == "conviction_share" and c.relative_to_national:
                return c.value
        return None

    def parameters(self) -> dict:
        """The parameters as used, for national.json and manifest.json."""
        return {
            "name": self.name,
            "in_force_from": self.in_force_from,
            "min_residents": self.min_residents,
            "two_year_mean": self.two_year_mean,
            "transformation_years": self.transformation_years,
            "has_transformation": self.has_transformation,
            "lists": list(self.lists),
            "ages": {k: list(v) for k, v in sorted(self.ages.items())},
            "socio13_outside_group": self.socio13_outside_group,
            "socio13_student_group": self.socio13_student_group,
            "education_valid_sources": self.education_valid_sources,
            "criteria": {k: self.criteria[k].as_dict() for k in CRITERIA},
            "n_criteria_of": list(self.n_criteria_of),
            "list_rules": {k: v.as_dict() for k, v in sorted(self.list_rules.items())},
            # only when the rule set sets them (otherwise the code lists decide, as before)
            **({"relevant_laws": list(self.relevant_laws)} if self.relevant_laws is not None else {}),
            **({"guilty_decision_types": list(self.guilty_decision_types)}
               if self.guilty_decision_types is not None else {}),
        }

    @property
    def crime_key(self) -> str:
        """Which decisions C2 counts: "reference" (the code lists' `relevant` and `guilty`
        columns), or the rule set's own laws and decision types."""
        if self.relevant_laws is None and self.guilty_decision_types is None:
            return "reference"
        laws = "reference" if self.relevant_laws is None else "|".join(self.relevant_laws)
        types = "reference" if self.guilty_decision_types is None else "|".join(map(str, self.guilty_decision_types))
        return f"laws={laws};types={types}"


# The keys a rule-set file may hold, per table (METHOD.md § 8). Any other key is an error: a
# misspelt parameter in a `--rules` file must not silently leave the built-in value in force.
TOP_KEYS = ("name", "in_force_from", "min_residents", "two_year_mean", "transformation_years",
            "has_transformation", "lists", "ages", "codes", "criteria", "n_criteria", "list")  # fmt: skip
AGE_KEYS = ("labour", "conviction", "education", "income")
CODE_KEYS = ("socio13_outside_group", "socio13_student_group", "education_valid_sources",
             "relevant_laws", "guilty_decision_types")  # fmt: skip
CONDITION_KEYS = ("metric", "op", "value", "relative_to_national")
LIST_KEYS = ("requires", "excludes", "all_of", "count_of", "min_count", "any_of")


def _only(table: Any, allowed: tuple[str, ...], where: str) -> dict:
    """`table` (a TOML table) when it is one and holds no key outside `allowed`."""
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        prefix = f"{where}." if where else ""
        raise ValueError(
            f"unknown key {prefix}{unknown[0]} (allowed{' in ' + where if where else ''}: {', '.join(allowed)})"
        )
    return table


def _condition(spec: Any, criteria: dict[str, Condition], where: str) -> Condition:
    if isinstance(spec, str):
        if spec not in criteria:
            raise ValueError(f"{where}: unknown criterion {spec!r}")
        return criteria[spec]
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: a condition is a criterion name or a table")
    _only(spec, CONDITION_KEYS, where)
    metric, op = spec.get("metric"), spec.get("op")
    if metric not in METRICS:
        raise ValueError(f"{where}: unknown metric {metric!r}")
    if op not in OPS:
        raise ValueError(f"{where}: unknown operator {op!r}")
    rel = bool(spec.get("relative_to_national", False))
    if rel and metric != "conviction_share":
        raise ValueError(f"{where}: relative_to_national applies to conviction_share only")
    if "value" not in spec:
        raise ValueError(f"{where}.value is missing")
    try:
        value = exact(spec["value"])
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        raise ValueError(f"{where}.value: {exc}") from exc
    return Condition(metric, op, value, rel)


def _whole(value: Any, where: str) -> int:
    """A TOML whole number (a bool, a float or a text is an error naming the key)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} must be a whole number, not {value!r}")
    return value


def parse_ruleset(data: dict, source: str) -> RuleSet:
    try:
        _only(data, TOP_KEYS, "")
        _only(data.get("criteria", {}), CRITERIA, "criteria")
        _only(data.get("n_criteria", {}), ("of",), "n_criteria")
        _only(data.get("codes", {}), CODE_KEYS, "codes")
        _only(data.get("ages", {}), AGE_KEYS, "ages")
        for name, spec in _only(data.get("list", {}), LIST_NAMES, "list").items():
            _only(spec, LIST_KEYS, f"list.{name}")
        criteria: dict[str, Condition] = {}
        for name in CRITERIA:
            if name not in data.get("criteria", {}):
                raise ValueError(f"criteria.{name} is missing")
            criteria[name] = _condition(data["criteria"][name], {}, f"criteria.{name}")
        lists = tuple(data["lists"])
        for name in lists:
            if name not in LIST_NAMES:
                raise ValueError(f"unknown list {name!r}")
        list_rules: dict[str, ListRule] = {}
        for name, spec in data.get("list", {}).items():
            if name not in LIST_NAMES:
                raise ValueError(f"unknown list {name!r}")
            where = f"list.{name}"
            list_rules[name] = ListRule(
                name=name,
                requires=tuple(spec.get("requires", ())),
                excludes=tuple(spec.get("excludes", ())),
                all_of=tuple(_condition(c, criteria, f"{where}.all_of[{i}]") for i, c in enumerate(spec.get("all_of", ()))),
                count_of=tuple(
                    _condition(c, criteria, f"{where}.count_of[{i}]") for i, c in enumerate(spec.get("count_of", ()))
                ),
                min_count=_whole(spec.get("min_count", 0), f"{where}.min_count"),
                any_of=tuple(
                    tuple(_condition(c, criteria, f"{where}.any_of[{g}][{i}]") for i, c in enumerate(group))
                    for g, group in enumerate(spec.get("any_of", ()))
                ),
            )
        for name in lists:
            if name not in list_rules:
                raise ValueError(f"list {name!r} has no [list.{name}] table")
        if "ages" not in data:
            raise ValueError("ages is missing")
        ages = {}
        for k, v in data["ages"].items():
            if not isinstance(v, list) or len(v) != 2:
                raise ValueError(f"ages.{k} must be [lowest, highest], not {v!r}")
            ages[k] = (_whole(v[0], f"ages.{k}[0]"), _whole(v[1], f"ages.{k}[1]"))
        for band in ("labour", "conviction", "education", "income"):
            if band not in ages:
                raise ValueError(f"ages.{band} is missing")
        two_year_mean = data.get("two_year_mean", "mean_of_shares")
        if two_year_mean not in ("mean_of_shares", "pooled"):
            raise ValueError(f"two_year_mean must be mean_of_shares or pooled, not {two_year_mean!r}")
        codes = data.get("codes", {})
        valid_sources = codes.get("education_valid_sources", "danish_or_approved")
        if valid_sources not in ("danish_or_approved", "all"):
            raise ValueError("codes.education_valid_sources must be danish_or_approved or all")
        laws = codes.get("relevant_laws")
        if laws is not None and (not isinstance(laws, list) or not laws
                                 or not all(isinstance(x, str) and x.strip() for x in laws)):  # fmt: skip
            raise ValueError("codes.relevant_laws must be a non-empty list of law names (crime_laws.csv)")
        if laws is not None and any("|" in x for x in laws):
            raise ValueError("codes.relevant_laws: a law name cannot contain '|'")
        types = codes.get("guilty_decision_types")
        if types is not None and (not isinstance(types, list) or not types
                                  or not all(isinstance(x, int) and not isinstance(x, bool) for x in types)):  # fmt: skip
            raise ValueError("codes.guilty_decision_types must be a non-empty list of afg_afgtyp codes (whole numbers)")
        return RuleSet(
            name=str(data["name"]),
            in_force_from=_whole(data["in_force_from"], "in_force_from"),
            min_residents=_whole(data.get("min_residents", 1000), "min_residents"),
            two_year_mean=two_year_mean,
            transformation_years=_whole(data.get("transformation_years", 5), "transformation_years"),
            has_transformation=bool(data.get("has_transformation", "transformation" in lists)),
            lists=lists,
            ages=ages,
            socio13_outside_group=codes.get("socio13_outside_group", "outside"),
            socio13_student_group=codes.get("socio13_student_group", "student"),
            education_valid_sources=valid_sources,
            criteria=criteria,
            n_criteria_of=tuple(data.get("n_criteria", {}).get("of", CRITERIA[:4])),
            list_rules=list_rules,
            relevant_laws=None if laws is None else tuple(sorted(set(laws))),
            guilty_decision_types=None if types is None else tuple(sorted(set(types))),
            source=source,
            raw=data,
        )
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise InputError(f"invalid rule set: {exc}", file=source) from exc


def builtin_names() -> list[str]:
    return sorted(p.stem for p in RULES_DIR.glob("*.toml"))


def load_ruleset(name_or_file: str) -> RuleSet:
    """A built-in rule set by name ("2018") or a TOML file."""
    path = RULES_DIR / f"{name_or_file}.toml"
    if not path.is_file():
        path = Path(name_or_file)
    if not path.is_file():
        raise InputError(
            f"no rule set of that name or file (built-in: {', '.join(builtin_names())})",
            file=str(name_or_file),
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", file=str(path)) from exc
    return parse_ruleset(data, str(path))


def ruleset_in_force(list_year: int) -> RuleSet:
    """The built-in rule set in force for a list year."""
    candidates = [load_ruleset(n) for n in builtin_names()]
    in_force = [r for r in candidates if r.in_force_from <= list_year]
    if not in_force:
        raise InputError(
            f"no rule set is in force for list year {list_year} (the earliest is "
            f"{min(r.in_force_from for r in candidates)}); such years exist only as history rows",
            year=list_year,
        )
    return max(in_force, key=lambda r: r.in_force_from)


def ruleset_for(list_year: int, override: str = "", requested_years: list[int] | tuple[int, ...] = ()) -> RuleSet:
    """`--rules` applies to the years the run was asked for; earlier years keep the rule set in force."""
    if override and list_year in set(requested_years):
        return load_ruleset(override)
    return ruleset_in_force(list_year)
