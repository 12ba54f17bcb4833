"""An independent, deliberately plain implementation of spec/METHOD.md.

Written from the spec only (not from pipeline/calculate.py, criteria.py, history.py or sql/), to
check the project's outputs value by value (tests/test_independent.py). Every share is kept as an
exact `Fraction` of integer counts (incomes as whole øre) and every threshold is decided on the
fraction; floats are produced only for the output, by one rounding of the exact value.

Usage:
    method = IndependentMethod(data_dir)
    df = method.areas(2024)            # polars DataFrame, the columns of areas.csv
    method.national(2024)              # conviction counts and regional income means
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import polars as pl

PROJECT_REFERENCE = Path(__file__).resolve().parents[1] / "pipeline" / "reference"

COLUMNS = [
    "area_id", "area_name", "kom", "region", "list_year", "ruleset", "residents", "eligible",
    "labour_share", "labour_share_prev", "labour_share_last",
    "conviction_share", "conviction_share_prev", "conviction_share_last", "conviction_ratio",
    "basic_edu_share", "area_mean_income", "region_mean_income", "income_ratio",
    "nonwestern_share",
    "crit_labour", "crit_conviction", "crit_education", "crit_income", "crit_nonwestern",
    "n_criteria", "vulnerable", "parallel", "transformation", "prevention", "combined_letting",
    "years_on_parallel_list", "development_plan",
]
FLOAT_COLUMNS = [
    "labour_share", "labour_share_prev", "labour_share_last",
    "conviction_share", "conviction_share_prev", "conviction_share_last", "conviction_ratio",
    "basic_edu_share", "area_mean_income", "region_mean_income", "income_ratio",
    "nonwestern_share",
]
BOOL_COLUMNS = [
    "eligible", "crit_labour", "crit_conviction", "crit_education", "crit_income",
    "crit_nonwestern", "vulnerable", "parallel", "transformation", "prevention",
    "combined_letting", "development_plan",
]
INT_COLUMNS = ["kom", "region", "list_year", "residents", "n_criteria", "years_on_parallel_list"]
STR_COLUMNS = ["area_id", "area_name", "ruleset"]
SCHEMA = {
    **{c: pl.String for c in STR_COLUMNS},
    **{c: pl.Int64 for c in INT_COLUMNS},
    **{c: pl.Float64 for c in FLOAT_COLUMNS},
    **{c: pl.Boolean for c in BOOL_COLUMNS},
}

F = Fraction
MIN_RESIDENTS = 1000
FIRST_RULESET_YEAR = 2014      # lists before 2014 exist only as history rows
TRANSFORMATION_FROM = 2018     # transformation (hard ghetto) list exists from 2018
TRANSFORMATION_YEARS = 5

# METHOD.md § 4, written out per rule set. ops: ">" overstiger, ">=" mindst, "<" mindre end.
MAIN_FROM_2018 = {
    "labour": (">", F("0.40")),
    "conviction": (">=", F(3)),               # multiple of the national share
    "education": (">", F("0.60")),
    "income": ("<", F("0.55")),
    "nonwestern": (">", F("0.50")),
}
RULESETS = {
    "2014": {
        "main": {
            "labour": (">", F("0.40")),
            "conviction": (">", F("0.027")),          # fixed share of residents 18+
            "education": (">", F("0.50")),
            "income": ("<", F("0.55")),
            "nonwestern": (">", F("0.50")),
        },
        "conviction_relative": False,
        "n_criteria_of": ["labour", "conviction", "education", "income", "nonwestern"],
        "education_sources": "all",
        "lists": {"parallel", "combined_letting"},
    },
    "2018": {
        "main": MAIN_FROM_2018,
        "conviction_relative": True,
        "n_criteria_of": ["labour", "conviction", "education", "income"],
        "education_sources": "danish_or_approved",
        "lists": {"vulnerable", "parallel", "transformation", "combined_letting"},
    },
    "2021": {
        "main": MAIN_FROM_2018,  # the main list's criteria did not change in 2021
        "conviction_relative": True,
        "n_criteria_of": ["labour", "conviction", "education", "income"],
        "education_sources": "danish_or_approved",
        "lists": {"vulnerable", "parallel", "transformation", "prevention"},
        "prevention": {
            "nonwestern": (">", F("0.30")),
            "count_of": {
                "labour": (">", F("0.30")),
                "conviction": (">=", F(2)),
                "education": (">", F("0.60")),
                "income": ("<", F("0.65")),
            },
            "min_count": 2,
        },
    },
}


def ruleset_for(year: int) -> str:
    if year >= 2021:
        return "2021"
    if year >= 2018:
        return "2018"
    if year >= 2014:
        return "2014"
    raise ValueError(f"no rule set for list year {year}")


def compare(value: Fraction | None, op: str, threshold: Fraction) -> bool:
    """An exact threshold decision; a null value never meets a criterion."""
    if value is None:
        return False
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "<":
        return value < threshold
    raise ValueError(op)


def share(num: int, den: int) -> Fraction | None:
    return None if den == 0 else Fraction(num, den)


def mean_of_shares(a: Fraction | None, b: Fraction | None) -> Fraction | None:
    if a is None or b is None:
        return None
    return (a + b) / 2


def to_float(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


class HistoryError(Exception):
    pass


class IndependentMethod:
    def __init__(self, data_dir: Path | str, boundaries_dir: Path | str | None = None):
        self.data = Path(data_dir)
        self.bdir = Path(boundaries_dir) if boundaries_dir else self.data / "boundaries"
        self._load_reference()
        self._load_boundaries()
        self._load_history()

    # ------------------------------------------------------------------ inputs
    def _ref(self, name: str) -> pl.DataFrame:
        override = self.data / "reference" / f"{name}.csv"
        path = override if override.exists() else PROJECT_REFERENCE / f"{name}.csv"
        return pl.read_csv(path, infer_schema_length=0)  # everything as strings; cast below

    @staticmethod
    def _true(s: str | None) -> bool:
        return str(s).strip().lower() == "true"

    def _load_reference(self) -> None:
        socio = self._ref("socio13")
        self.outside_codes = {int(r["socio13"]) for r in socio.iter_rows(named=True) if r["grp"] == "outside"}
        self.student_codes = {int(r["socio13"]) for r in socio.iter_rows(named=True) if r["grp"] == "student"}
        dec = self._ref("decision_types")
        self.guilty_types = {int(r["afg_afgtyp"]) for r in dec.iter_rows(named=True) if self._true(r["guilty"])}
        laws = self._ref("crime_laws")
        self.law_relevant = {r["ger7_prefix"]: self._true(r["relevant"]) for r in laws.iter_rows(named=True)}
        levels = self._ref("education_levels")
        basic_h1 = {int(r["h1"]) for r in levels.iter_rows(named=True) if self._true(r["basic_only"])}
        hf = self._ref("hfaudd")
        self.hfaudd_basic = {int(r["hfaudd"]): int(r["h1"]) in basic_h1 for r in hf.iter_rows(named=True)}
        src = self._ref("education_sources")
        self.danish_sources = {int(r["hfaudd_kilde"]) for r in src.iter_rows(named=True) if self._true(r["danish_or_approved"])}
        countries = self._ref("countries")
        self.western = {r["opr_land"] for r in countries.iter_rows(named=True) if self._true(r["western"])}
        mun = self._ref("municipalities")
        self.region_of = {int(r["kom"]): int(r["region"]) for r in mun.iter_rows(named=True)}
        self.regions = sorted(set(self.region_of.values()))

    def _load_boundaries(self) -> None:
        areas = pl.read_csv(self.bdir / "areas.csv", infer_schema_length=0)
        self.areas_df = areas.select(
            pl.col("area_id"), pl.col("area_name"), pl.col("kom").cast(pl.Int64)
        ).sort("area_id")
        self.area_ids = self.areas_df["area_id"].to_list()
        parcels = pl.read_csv(self.bdir / "parcels.csv", infer_schema_length=0)
        self.parcels = parcels.select(
            pl.col("area_id"),
            pl.col("ejerlavskode").cast(pl.Int64),
            pl.col("matrikelnr").cast(pl.String),
        )

    def _load_history(self) -> None:
        path = self.data / "history" / "lists.csv"
        self.hist_parallel: dict[int, set[str]] = {}
        self.hist_transformation: dict[int, set[str]] = {}
        if not path.exists():
            return
        hist = pl.read_csv(path, infer_schema_length=0)
        known = set(self.area_ids)
        for r in hist.iter_rows(named=True):
            y = int(r["list_year"])
            # the file covers y when it has at least one row for y (even for an unknown id)
            self.hist_parallel.setdefault(y, set())
            if r["area_id"] not in known:
                continue  # ids outside the boundary version in use are ignored
            if r["list"] == "parallel":
                self.hist_parallel[y].add(r["area_id"])
            elif r["list"] == "transformation":
                self.hist_transformation.setdefault(y, set()).add(r["area_id"])

    @lru_cache(maxsize=None)
    def register(self, name: str, year: int) -> pl.DataFrame:
        path = self.data / "registers" / f"{name}_{year}.parquet"
        if path.exists():
            return pl.read_parquet(path)
        csv = path.with_suffix(".csv")
        if csv.exists():
            return pl.read_csv(csv, infer_schema_length=None)
        raise FileNotFoundError(f"{name}_{year}")

    def has_register(self, name: str, year: int) -> bool:
        base = self.data / "registers" / f"{name}_{year}"
        return any(base.with_suffix(s).exists() for s in (".parquet", ".csv"))

    def can_compute(self, y: int) -> bool:
        needed = [("bef", y), ("bef", y - 1), ("adresser", y), ("adresser", y - 1),
                  ("akm", y - 1), ("akm", y - 2), ("kraf", y - 1), ("kraf", y - 2),
                  ("udda", y - 1), ("ind", y - 1)]
        return y >= FIRST_RULESET_YEAR and all(self.has_register(n, t) for n, t in needed)

    # ------------------------------------------------------------------ building blocks
    @lru_cache(maxsize=None)
    def residents(self, s: int) -> pl.DataFrame:
        """Persons of bef_s whose address on 1 January s lies on a parcel of an area."""
        bef = self.register("bef", s).select("pnr", "alder", "ie_type", "opr_land", "adresse_id")
        adr = self.register("adresser", s).select(
            "adresse_id", pl.col("ejerlavskode").cast(pl.Int64), pl.col("matrikelnr").cast(pl.String)
        )
        return (
            bef.filter(pl.col("adresse_id").is_not_null())
            .join(adr, on="adresse_id", how="inner")
            .join(self.parcels, on=["ejerlavskode", "matrikelnr"], how="inner")
            .select("pnr", "area_id", "alder", "ie_type", "opr_land")
        )

    def _per_area(self, df: pl.DataFrame, flag: str) -> dict[str, tuple[int, int]]:
        """area_id -> (numerator = rows with flag true, denominator = rows)."""
        g = df.group_by("area_id").agg(
            pl.len().alias("d"), pl.col(flag).fill_null(False).sum().alias("n")
        )
        out = {a: (0, 0) for a in self.area_ids}
        for r in g.iter_rows(named=True):
            out[r["area_id"]] = (int(r["n"]), int(r["d"]))
        return out

    def _law_relevant(self, ger7: str | None) -> bool:
        if ger7 is None:
            return False
        for length in range(len(ger7), 0, -1):  # longest matching prefix decides
            law = self.law_relevant.get(ger7[:length])
            if law is not None:
                return law
        return False

    @lru_cache(maxsize=None)
    def convicted(self, t: int) -> pl.DataFrame:
        """pnr of persons with >= 1 guilty decision under a relevant law dated in year t."""
        kraf = self.register("kraf", t)
        codes = kraf["afg_ger7"].unique().to_list()
        relevant = [c for c in codes if self._law_relevant(c)]
        return (
            kraf.filter(
                (pl.col("afg_dato").dt.year() == t)
                & pl.col("afg_afgtyp").is_in(sorted(self.guilty_types))
                & pl.col("afg_ger7").is_in(relevant)
            )
            .select("pnr")
            .unique()
            .with_columns(pl.lit(True).alias("convicted"))
        )

    @lru_cache(maxsize=None)
    def labour_counts(self, t: int) -> dict[str, tuple[int, int]]:
        res = self.residents(t + 1).filter(pl.col("alder").is_between(18, 64))
        akm = self.register("akm", t).select(
            "pnr", pl.col("socio13").is_in(sorted(self.outside_codes)).alias("outside")
        )
        return self._per_area(res.join(akm, on="pnr", how="left"), "outside")

    @lru_cache(maxsize=None)
    def conviction_counts(self, t: int) -> dict[str, tuple[int, int]]:
        res = self.residents(t + 1).filter(pl.col("alder") >= 18)
        return self._per_area(res.join(self.convicted(t), on="pnr", how="left"), "convicted")

    @lru_cache(maxsize=None)
    def national_conviction(self, t: int) -> tuple[int, int]:
        adults = self.register("bef", t + 1).filter(pl.col("alder") >= 18).select("pnr")
        conv = adults.join(self.convicted(t), on="pnr", how="inner").height
        return conv, adults.height

    def education_counts(self, y: int, sources: str) -> dict[str, tuple[int, int]]:
        res = self.residents(y).filter(pl.col("alder").is_between(30, 59))
        udda = self.register("udda", y - 1).select("pnr", "hfaudd", "hfaudd_kilde")
        rows = res.join(udda, on="pnr", how="left")
        basic = []
        for hfaudd, kilde in zip(rows["hfaudd"].to_list(), rows["hfaudd_kilde"].to_list()):
            valid = hfaudd is not None and hfaudd in self.hfaudd_basic
            if sources == "danish_or_approved":
                valid = valid and kilde is not None and kilde in self.danish_sources
            basic.append((not valid) or self.hfaudd_basic[hfaudd])
        rows = rows.with_columns(pl.Series("basic", basic, dtype=pl.Boolean))
        return self._per_area(rows, "basic")

    def income_population(self, y: int, persons: pl.DataFrame) -> pl.DataFrame:
        """persons (with pnr, alder) restricted to the C4 population, with income in øre."""
        ind = self.register("ind", y - 1).select("pnr", "perindkialt_13", "skattepligtig")
        akm = self.register("akm", y - 1).select("pnr", "socio13")
        return (
            persons.filter(pl.col("alder").is_between(15, 64))
            .join(ind, on="pnr", how="inner")
            .filter(pl.col("skattepligtig").fill_null(False) & pl.col("perindkialt_13").is_not_null())
            .join(akm, on="pnr", how="left")
            .filter(pl.col("socio13").is_null() | ~pl.col("socio13").is_in(sorted(self.student_codes)))
            .with_columns((pl.col("perindkialt_13") * 100).round(0).cast(pl.Int64).alias("ore"))
        )

    @lru_cache(maxsize=None)
    def region_income(self, y: int) -> dict[int, tuple[int, int]]:
        """region -> (sum of income in øre, persons) over bef_y."""
        bef = self.register("bef", y).select("pnr", "alder", "kom")
        pop = self.income_population(y, bef)
        out = {r: (0, 0) for r in self.regions}
        for kom, ore in zip(pop["kom"].to_list(), pop["ore"].to_list()):
            reg = self.region_of.get(kom)
            if reg is None:
                continue
            s, n = out[reg]
            out[reg] = (s + ore, n + 1)
        return out

    def area_income(self, y: int) -> dict[str, tuple[int, int]]:
        pop = self.income_population(y, self.residents(y))
        out = {a: (0, 0) for a in self.area_ids}
        for a, ore in zip(pop["area_id"].to_list(), pop["ore"].to_list()):
            s, n = out[a]
            out[a] = (s + ore, n + 1)
        return out

    def nonwestern_counts(self, y: int) -> dict[str, tuple[int, int]]:
        res = self.residents(y).with_columns(
            (pl.col("ie_type").is_in([2, 3]) & ~pl.col("opr_land").fill_null("").is_in(sorted(self.western)))
            .alias("nonwestern")
        )
        return self._per_area(res, "nonwestern")

    # ------------------------------------------------------------------ one list year, no history
    @lru_cache(maxsize=None)
    def base(self, y: int) -> dict[str, dict]:
        """Criteria and the list flags that do not depend on history, per area."""
        rs_name = ruleset_for(y)
        rs = RULESETS[rs_name]
        lab_prev, lab_last = self.labour_counts(y - 2), self.labour_counts(y - 1)
        con_prev, con_last = self.conviction_counts(y - 2), self.conviction_counts(y - 1)
        nat_prev, nat_last = self.national_conviction(y - 2), self.national_conviction(y - 1)
        national = mean_of_shares(share(*nat_prev), share(*nat_last))
        edu = self.education_counts(y, rs["education_sources"])
        inc = self.area_income(y)
        reg_inc = self.region_income(y)
        nw = self.nonwestern_counts(y)
        residents_now = self._per_area(self.residents(y).with_columns(pl.lit(True).alias("x")), "x")

        out: dict[str, dict] = {}
        for row in self.areas_df.iter_rows(named=True):
            a = row["area_id"]
            region = self.region_of.get(row["kom"])
            residents = residents_now[a][1]
            eligible = residents >= MIN_RESIDENTS
            r: dict = {
                "area_id": a, "area_name": row["area_name"], "kom": row["kom"], "region": region,
                "list_year": y, "ruleset": rs_name, "residents": residents, "eligible": eligible,
            }
            for c in COLUMNS[8:]:
                r.setdefault(c, None)
            for c in ("vulnerable", "parallel", "transformation", "prevention", "combined_letting"):
                r[c] = False
            r["years_on_parallel_list"] = 0
            out[a] = r
            if not eligible:
                continue

            lp, ll = share(*lab_prev[a]), share(*lab_last[a])
            labour = mean_of_shares(lp, ll)
            cp, cl = share(*con_prev[a]), share(*con_last[a])
            conviction = mean_of_shares(cp, cl)
            ratio_conv = None if conviction is None or not national else conviction / national
            basic = share(*edu[a])
            a_sum, a_n = inc[a]
            area_mean = share(a_sum, a_n)          # øre
            r_sum, r_n = reg_inc.get(region, (0, 0))
            region_mean = share(r_sum, r_n)        # øre
            income_ratio = None if area_mean is None or not region_mean else area_mean / region_mean
            nonwestern = share(*nw[a])

            r.update({
                "labour_share": to_float(labour), "labour_share_prev": to_float(lp),
                "labour_share_last": to_float(ll),
                "conviction_share": to_float(conviction), "conviction_share_prev": to_float(cp),
                "conviction_share_last": to_float(cl), "conviction_ratio": to_float(ratio_conv),
                "basic_edu_share": to_float(basic),
                "area_mean_income": to_float(None if area_mean is None else area_mean / 100),
                "region_mean_income": to_float(None if region_mean is None else region_mean / 100),
                "income_ratio": to_float(income_ratio), "nonwestern_share": to_float(nonwestern),
            })

            # conviction criterion: a fixed share (2014) or a multiple of the national share,
            # compared exactly as conviction_share >= k * national_share
            def conviction_met(op: str, value: Fraction) -> bool:
                if rs["conviction_relative"]:
                    if national is None:
                        return False
                    return compare(conviction, op, value * national)
                return compare(conviction, op, value)

            metric = {"labour": labour, "education": basic, "income": income_ratio, "nonwestern": nonwestern}
            crit = {}
            for name, (op, value) in rs["main"].items():
                crit[name] = conviction_met(op, value) if name == "conviction" else compare(metric[name], op, value)
            for name in crit:
                r[f"crit_{name}"] = crit[name]
            n = sum(crit[c] for c in rs["n_criteria_of"])
            r["n_criteria"] = n

            if rs_name == "2014":
                r["parallel"] = n >= 3
            else:
                r["vulnerable"] = n >= 2
                r["parallel"] = r["vulnerable"] and crit["nonwestern"]
            if "prevention" in rs["lists"]:
                p = rs["prevention"]
                count = 0
                for name, (op, value) in p["count_of"].items():
                    count += conviction_met(op, value) if name == "conviction" else compare(metric[name], op, value)
                r["prevention"] = (
                    not r["vulnerable"]
                    and compare(nonwestern, *p["nonwestern"])
                    and count >= p["min_count"]
                )
            if "combined_letting" in rs["lists"]:
                r["combined_letting"] = compare(labour, ">=", F("0.40")) or (
                    compare(labour, ">=", F("0.30")) and residents >= 5000
                )
        return out

    # ------------------------------------------------------------------ history (METHOD § 6, official)
    @lru_cache(maxsize=None)
    def earliest_known(self) -> int | None:
        years = set(self.hist_parallel)
        for y in range(FIRST_RULESET_YEAR, 2100):
            if self.can_compute(y):
                years.add(y)
                break
        return min(years) if years else None

    @lru_cache(maxsize=None)
    def parallel_set(self, y: int) -> frozenset[str] | None:
        """Areas on the parallel list in list year y; None when no source knows y."""
        if y in self.hist_parallel:
            return frozenset(self.hist_parallel[y])
        if self.can_compute(y):
            return frozenset(a for a, r in self.base(y).items() if r["parallel"])
        earliest = self.earliest_known()
        if earliest is None or y < earliest:
            return frozenset()  # before the earliest known list year: not listed
        return None

    def parallel_status(self, y: int) -> frozenset[str]:
        s = self.parallel_set(y)
        if s is None:
            raise HistoryError(f"list year {y}: no history and no registers")
        return s

    def years_on(self, a: str, y: int) -> int:
        n = 0
        earliest = self.earliest_known()
        while earliest is not None and y >= earliest and a in self.parallel_status(y):
            n += 1
            y -= 1
        return n

    @lru_cache(maxsize=None)
    def transformation_set(self, y: int) -> frozenset[str]:
        if y < TRANSFORMATION_FROM:
            return frozenset()
        if y in self.hist_parallel and self.hist_transformation.get(y):
            return frozenset(self.hist_transformation[y])
        on_all = set(self.parallel_status(y))
        for k in range(1, TRANSFORMATION_YEARS):
            on_all &= self.parallel_status(y - k)
        return frozenset(on_all)

    # ------------------------------------------------------------------ outputs
    def areas(self, y: int) -> pl.DataFrame:
        if y >= TRANSFORMATION_FROM:
            for k in range(FIRST_RULESET_YEAR, y + 1):
                self.parallel_status(k)  # every year from 2014 is needed; raises if missing
        base = self.base(y)
        rows = []
        for a in self.area_ids:
            r = dict(base[a])
            if r["parallel"]:
                r["years_on_parallel_list"] = self.years_on(a, y)
                if "transformation" in RULESETS[r["ruleset"]]["lists"]:
                    r["transformation"] = all(  # the current year itself is parallel
                        a in self.parallel_status(y - k) for k in range(1, TRANSFORMATION_YEARS)
                    )
            plan = r["transformation"]
            for k in range(TRANSFORMATION_FROM, y):
                plan = plan or a in self.transformation_set(k)
            r["development_plan"] = plan
            rows.append(r)
        return pl.DataFrame(rows, schema=SCHEMA).select(COLUMNS)

    def national(self, y: int) -> dict:
        (cp, pp), (cl, pl_) = self.national_conviction(y - 2), self.national_conviction(y - 1)
        reg = self.region_income(y)
        return {
            "conviction_counts": {
                "prev": {"convicted": cp, "persons": pp},
                "last": {"convicted": cl, "persons": pl_},
            },
            "region_mean_income": {
                str(r): (None if n == 0 else float(Fraction(s, n) / 100)) for r, (s, n) in reg.items()
            },
        }
