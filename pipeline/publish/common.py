"""What the publication outputs share: the lists of each rule set with their Danish names,
the criteria as published (headings, thresholds for display), municipality names, and the
typed reader of `areas.csv`.

Thresholds are for *display* (charts, the prevention list's criteria) and are read from the rule
set the year was computed with (national.json's `parameters`): every list flag and every `crit_*`
value comes from `areas.csv`, where it was decided exactly on integer counts.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from pipeline.contract import year_runs, year_span
from pipeline.errors import InputError
from pipeline.reference import PACKAGE_DIR, load_reference

LIST_KEYS = ("vulnerable", "parallel", "transformation", "prevention", "combined_letting")

# The lists of each rule set, in publication order, with the Danish name of that rule set's years.
RULESET_LISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "2014": (("parallel", "Ghettoområder"), ("combined_letting", "Kombineret udlejning")),
    "2018": (
        ("vulnerable", "Udsatte boligområder"),
        ("parallel", "Ghettoområder"),
        ("transformation", "Hårde ghettoområder"),
        ("combined_letting", "Kombineret udlejning"),
    ),
    "2021": (
        ("vulnerable", "Udsatte boligområder"),
        ("parallel", "Parallelsamfund"),
        ("transformation", "Omdannelsesområder"),
        ("prevention", "Forebyggelsesområder"),
    ),
}

# Names used across rule sets (charts over the years: the same list changed name in 2021).
LIST_LABELS_ALL_YEARS = {
    "vulnerable": "Udsatte boligområder",
    "parallel": "Parallelsamfund (før 2021: ghettoområder)",
    "transformation": "Omdannelsesområder (2018-2020: hårde ghettoområder)",
    "prevention": "Forebyggelsesområder",
    "combined_letting": "Kombineret udlejning",
}

CRITERIA = ("labour", "conviction", "education", "income", "nonwestern")
CRIT_SHORT = {
    "labour": "arbejdsmarked",
    "conviction": "dømte",
    "education": "grundskole",
    "income": "indkomst",
    "nonwestern": "ikke-vestlige",
}

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
# A published value within this distance of a threshold is taken as equal to it (the value is a
# float of an exact ratio of counts; two distinct ratios of register counts are much further apart).
_EQ_TOL = 1e-12


@dataclass(frozen=True)
class Criterion:
    key: str  # labour, conviction, ...
    column: str  # the areas.csv column the criterion is judged on
    heading: str  # Danish column heading
    kind: str  # "pct" (a fraction shown as percent) or "ratio" (a multiple)
    op: str
    value: float

    def met(self, x: float | None) -> bool | None:
        """Display-only check on the published float (null -> None)."""
        if x is None:
            return None
        if abs(x - self.value) <= _EQ_TOL:
            return self.op in (">=", "<=")
        return _OPS[self.op](x, self.value)

    def threshold_text(self) -> str:
        op = {">=": "≥", "<=": "≤"}.get(self.op, self.op)
        if self.kind == "pct":
            return f"{op} {fmt_pct(self.value)}"
        return f"{op} {fmt_num(self.value, 1)} × landsgennemsnittet"

    def short_text(self) -> str:
        if self.kind == "pct":
            return self.threshold_text()
        op = {">=": "≥", "<=": "≤"}.get(self.op, self.op)
        return f"{op} {fmt_num(self.value, 1)}×"


H_LABOUR = "Andel uden for arbejdsmarked og uddannelse"
H_CONV_RATIO = "Dømte (gange landsgennemsnit)"
H_CONV_SHARE = "Dømte (andel)"
H_EDU = "Andel kun grundskole"
H_INCOME = "Gennemsnitlig bruttoindkomst i pct. af regionen"
H_NONWEST = "Andel ikke-vestlige"


_METRIC_KEY = {
    "labour_share": "labour",
    "conviction_share": "conviction",
    "basic_edu_share": "education",
    "income_ratio": "income",
    "nonwestern_share": "nonwestern",
}
_HEADINGS = {"labour": H_LABOUR, "conviction": H_CONV_SHARE, "education": H_EDU, "income": H_INCOME,
             "nonwestern": H_NONWEST}  # fmt: skip


def _criterion(condition: dict) -> Criterion:
    """A condition of the rule set's parameters (national.json) as shown: a multiple of the
    national conviction share is shown on `conviction_ratio`, every other value on its metric."""
    key = _METRIC_KEY[condition["metric"]]
    if condition.get("relative_to_national"):
        return Criterion(key, "conviction_ratio", H_CONV_RATIO, "ratio", condition["op"], float(condition["value"]))
    return Criterion(key, condition["metric"], _HEADINGS[key], "pct", condition["op"], float(condition["value"]))


@dataclass(frozen=True)
class ShownColumn:
    """A column of a published table of criterion values (workbook sheets, report tables)."""

    key: str  # the criterion (labour, conviction, ...)
    column: str  # the areas.csv column shown
    heading: str
    kind: str  # "pct" or "ratio"
    threshold: str  # the threshold as text; "" for a column the threshold is not applied to


def shown_columns(crits: tuple[Criterion, ...]) -> tuple[ShownColumn, ...]:
    """The columns that show `crits` (METHOD.md § 7: the criterion values, percentages to one
    decimal): one per criterion, except that a conviction criterion judged on the multiple of
    the national share (rule sets 2018, 2021) also shows the share itself as a percentage,
    just before the multiple the threshold is applied to."""
    cols: list[ShownColumn] = []
    for c in crits:
        if c.kind == "ratio" and c.key == "conviction":
            cols.append(ShownColumn(c.key, "conviction_share", H_CONV_SHARE, "pct", ""))
        cols.append(ShownColumn(c.key, c.column, c.heading, c.kind, c.threshold_text()))
    return tuple(cols)


def criteria_from_parameters(parameters: dict, list_key: str) -> tuple[Criterion, ...]:
    """The criteria of a list as the rule set used defines them (`national.json`'s `parameters`):
    the main criteria (the crit_* columns) for every list but prevention, which has its own
    thresholds (METHOD.md § 4). In the order of CRITERIA; () when the rule set has no such list."""
    if list_key == "prevention":
        rule = parameters.get("list_rules", {}).get("prevention")
        conditions = [*rule.get("all_of", []), *rule.get("count_of", [])] if rule else []
    else:
        conditions = [parameters["criteria"][k] for k in CRITERIA if k in parameters.get("criteria", {})]
    shown: dict[str, Criterion] = {}
    for condition in conditions:
        if condition.get("metric") in _METRIC_KEY:
            c = _criterion(condition)
            shown.setdefault(c.key, c)
    return tuple(shown[k] for k in CRITERIA if k in shown)


def ruleset_in_force(list_year: int) -> str:
    """The name of the built-in rule set in force for the list year (pipeline.rules decides)."""
    from pipeline.rules import ruleset_in_force as in_force

    return in_force(list_year).name


def base_ruleset(ruleset: str, list_year: int) -> str:
    """The rule set whose lists and display thresholds apply: `ruleset` when it is one of the
    three shipped ones, else (a custom `--rules` file) the one in force for the year."""
    return ruleset if ruleset in RULESET_LISTS else ruleset_in_force(list_year)


def lists_of(ruleset: str, list_year: int) -> tuple[tuple[str, str], ...]:
    return RULESET_LISTS[base_ruleset(ruleset, list_year)]


def criteria_for(ruleset: str, list_year: int, list_key: str, parameters: dict | None = None) -> tuple[Criterion, ...]:
    """The thresholds shown for a list: those of the rule set the year was computed with
    (`parameters`, from national.json; a custom `--rules` file shows its own), else those of the
    shipped rule set."""
    if not parameters or "criteria" not in parameters:
        parameters = _shipped_parameters(base_ruleset(ruleset, list_year))
    return criteria_from_parameters(parameters, list_key)


@functools.lru_cache(maxsize=None)
def _shipped_parameters(name: str) -> dict:
    from pipeline.rules import load_ruleset

    return load_ruleset(name).parameters()


def met_criteria(row: dict, ruleset: str, list_year: int, list_key: str, parameters: dict | None = None) -> list[str]:
    """Criterion keys met by an area for the given list. The main list's criteria are the
    exact `crit_*` flags of areas.csv; the prevention list's own thresholds are not in
    areas.csv, so they are checked on the published values (display only)."""
    if list_key == "prevention":
        return [c.key for c in criteria_for(ruleset, list_year, list_key, parameters) if c.met(row.get(c.column))]
    return [k for k in CRITERIA if row.get(f"crit_{k}") is True]


def met_text(keys: list[str]) -> str:
    return ", ".join(CRIT_SHORT[k] for k in keys)


# ---------------------------------------------------------------- formatting (Danish)


def _shown(x: float | Decimal) -> Decimal:
    """The value as a spreadsheet holds it for display: its 15 significant digits."""
    return x if isinstance(x, Decimal) else Decimal(f"{x:.15g}")


def fmt_num(x: float | Decimal | None, decimals: int) -> str:
    """`x` to `decimals` places as the workbook's cells show it (Excel: 15 significant digits,
    half away from zero), so that report.html and the workbook show one figure (binary rounding
    of 0.2005 * 100 could give either); Danish separators, no "-0,0"."""
    if x is None:
        return ""
    d = _shown(x)
    if d.is_finite():
        d = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        if d.is_zero():
            d = d.copy_abs()
    s = f"{d:,.{decimals}f}"
    return s.replace(",", "\u00a0").replace(".", ",").replace("\u00a0", ".")


def fmt_pct(x: float | None) -> str:
    return "" if x is None else f"{fmt_num(_shown(x).scaleb(2), 1)} %"


def fmt_int(x: int | None) -> str:
    return "" if x is None else fmt_num(float(x), 0)


# ---------------------------------------------------------------- municipalities


def municipality_names(municipalities: pl.DataFrame | None = None) -> dict[int, str]:
    if municipalities is None:
        municipalities = load_reference("municipalities", PACKAGE_DIR / "municipalities.csv")
    return dict(zip(municipalities["kom"].to_list(), municipalities["kom_name"].to_list(), strict=True))


def region_names(municipalities: pl.DataFrame | None = None) -> dict[int, str]:
    if municipalities is None:
        municipalities = load_reference("municipalities", PACKAGE_DIR / "municipalities.csv")
    return dict(
        zip(municipalities["region"].to_list(), municipalities["region_name"].to_list(), strict=True)
    )


# ---------------------------------------------------------------- areas.csv

AREAS_SCHEMA: dict[str, pl.DataType] = {
    "area_id": pl.String(),
    "area_name": pl.String(),
    "kom": pl.Int64(),
    "region": pl.Int64(),
    "list_year": pl.Int64(),
    "ruleset": pl.String(),
    "residents": pl.Int64(),
    "eligible": pl.Boolean(),
    "labour_share": pl.Float64(),
    "labour_share_prev": pl.Float64(),
    "labour_share_last": pl.Float64(),
    "conviction_share": pl.Float64(),
    "conviction_share_prev": pl.Float64(),
    "conviction_share_last": pl.Float64(),
    "conviction_ratio": pl.Float64(),
    "basic_edu_share": pl.Float64(),
    "area_mean_income": pl.Float64(),
    "region_mean_income": pl.Float64(),
    "income_ratio": pl.Float64(),
    "nonwestern_share": pl.Float64(),
    "crit_labour": pl.Boolean(),
    "crit_conviction": pl.Boolean(),
    "crit_education": pl.Boolean(),
    "crit_income": pl.Boolean(),
    "crit_nonwestern": pl.Boolean(),
    "n_criteria": pl.Int64(),
    "vulnerable": pl.Boolean(),
    "parallel": pl.Boolean(),
    "transformation": pl.Boolean(),
    "prevention": pl.Boolean(),
    "combined_letting": pl.Boolean(),
    "years_on_parallel_list": pl.Int64(),
    "development_plan": pl.Boolean(),
}

# Columns that must have a value in every row (the others may be empty).
_NOT_NULL = (
    "area_id", "kom", "list_year", "ruleset", "residents", "eligible",
    *LIST_KEYS, "years_on_parallel_list", "development_plan",
)


def read_areas_csv(path: Path) -> pl.DataFrame:
    """Read an `areas.csv` written by `boliglister run` into typed columns (OUTPUTS.md):
    booleans from `true`/`false`, floats, integers, empty = null. Errors are InputError
    naming the file and column, with counts only."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found (run `boliglister run` for this year first)", file=str(path))
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV ({exc.__class__.__name__})", file=str(path)) from exc
    missing = [c for c in AREAS_SCHEMA if c not in raw.columns]
    if missing:
        raise InputError("required column is missing", file=str(path), column=missing[0])
    cols = []
    for col, dtype in AREAS_SCHEMA.items():
        stripped = pl.col(col).str.strip_chars()
        s = raw.select(pl.when(stripped == "").then(None).otherwise(stripped).alias(col))[col]
        if dtype == pl.Boolean():
            bad = s.is_not_null() & ~s.is_in(["true", "false"])
            if bad.any():
                raise InputError(
                    f"{int(bad.sum())} value(s) are not true/false", file=str(path), column=col
                )
            out = s == "true"
        elif dtype == pl.String():
            out = s
        else:
            out = s.cast(dtype, strict=False)
            bad = out.is_null() & s.is_not_null()
            if bad.any():
                raise InputError(
                    f"{int(bad.sum())} value(s) are not of type {dtype}", file=str(path), column=col
                )
        if col in _NOT_NULL and out.null_count():
            raise InputError(f"{out.null_count()} row(s) have no value", file=str(path), column=col)
        cols.append(out.alias(col))
    df = pl.DataFrame(cols)
    if df["area_id"].is_duplicated().any():
        raise InputError(
            f"{int(df['area_id'].is_duplicated().sum())} rows share their area_id with another row",
            file=str(path),
            column="area_id",
        )
    return df


def normalise_areas(areas: pl.DataFrame) -> pl.DataFrame:
    """Accept an areas frame from the pipeline (e.g. read from `mart_areas`) with whatever
    integer widths it has: cast to the types of AREAS_SCHEMA (columns it lacks are nulls)."""
    exprs = []
    for col, dtype in AREAS_SCHEMA.items():
        if col in areas.columns:
            exprs.append(pl.col(col).cast(dtype))
        else:
            exprs.append(pl.lit(None, dtype).alias(col))
    return areas.select(exprs)


def previous_members(prev: pl.DataFrame | None, lists: tuple[tuple[str, str], ...],
                     prev_lists: tuple[str, ...] | None) -> dict[str, set[str]] | None:
    """Last year's areas on each of `lists` that `prev` knows (`prev_lists`; None: all); None
    without a previous year. A list missing from the result is not compared."""
    if prev is None:
        return None
    return {k: on_list(prev, k) for k, _ in lists if prev_lists is None or k in prev_lists}


def partial_prev_note(list_year: int, known: list[str]) -> str:
    """The note when last year's lists come from the history file, which holds only some lists
    (`known`: their Danish names): the others are not compared with last year."""
    names = " og ".join(n.lower() for n in known) if known else "ingen af listerne"
    return (f"Listerne for {list_year - 1} er taget fra historikfilen, som kun har {names}: "
            "de øvrige lister sammenlignes ikke med sidste år.")


def on_list(areas: pl.DataFrame, key: str) -> set[str]:
    return set(areas.filter(pl.col(key).fill_null(False))["area_id"].to_list())


REASON_GONE = "Ikke med i årets områdeafgrænsning"
REASON_CRIT = "Opfylder ikke længere kriterierne"
REASON_NOT_PARALLEL = "Ikke længere på parallelsamfundslisten"
# a prevention area is never vulnerable (METHOD.md § 4): one that became vulnerable left the
# prevention list for that list, whatever its prevention criteria
REASON_NOW_VULNERABLE = "Nu på listen over udsatte boligområder"


def min_residents_of(parameters: dict | None) -> int:
    """The rule set's `min_residents` from national.json's `parameters` (1000 without them)."""
    return int((parameters or {}).get("min_residents", 1000))


def departure_reason(list_key: str, current: dict | None, min_residents: int = 1000) -> str:
    """Why an area on `list_key` last year is not on it this year (`current`: its row this
    year, None when the area is not in this year's boundaries; `min_residents`: the rule set's)."""
    if current is None:
        return REASON_GONE
    if not current["eligible"]:
        return f"Under {min_residents:,} beboere".replace(",", ".")  # Danish thousands separator
    if list_key == "transformation" and not current["parallel"]:
        return REASON_NOT_PARALLEL
    if list_key == "prevention" and current["vulnerable"]:
        return REASON_NOW_VULNERABLE
    return REASON_CRIT


def year_ranges(years) -> str:
    """Years as runs of consecutive years: [2014, 2015, 2016, 2019] -> "2014-2016, 2019"."""
    return ", ".join(year_span(a, b) for a, b in year_runs(years))
