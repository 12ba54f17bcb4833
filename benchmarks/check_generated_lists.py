"""Rough, independent check of generated data: the five criteria of spec/METHOD.md per area and
list year, computed with polars (floats, not the exact Fraction comparisons of the pipeline),
and the resulting list counts. Used to tune pipeline/generate.py; not part of the pipeline.

    uv run python benchmarks/check_generated_lists.py DATA_DIR [--boundaries boundaries]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from pipeline.reference import load_all

OUTSIDE = [210, 220, 321, 322, 323, 330, 410]


def rule_set(y: int) -> str:
    return "2014" if y <= 2017 else ("2018" if y <= 2020 else "2021")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--boundaries", default="boundaries")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    d: Path = args.data
    ref = load_all()
    reg = d / "registers"
    years = sorted(int(p.stem.split("_")[1]) for p in reg.glob("bef_*.parquet"))
    parcels = pl.read_csv(d / args.boundaries / "parcels.csv", schema_overrides={"ejerlavskode": pl.Int32})
    areas = pl.read_csv(d / args.boundaries / "areas.csv", schema_overrides={"kom": pl.Int32})
    muni = ref["municipalities"].select("kom", "region")
    areas = areas.join(muni, on="kom")
    western = ref["countries"].filter(pl.col("western"))["opr_land"].to_list()
    hf = ref["hfaudd"].join(ref["education_levels"], on="h1").select("hfaudd", "basic_only")
    laws = ref["crime_laws"]
    guilty = ref["decision_types"].filter(pl.col("guilty"))["afg_afgtyp"].to_list()

    def read(t: str, y: int) -> pl.DataFrame:
        return pl.read_parquet(reg / f"{t}_{y}.parquet")

    def bef(y: int) -> pl.DataFrame:
        b = read("bef", y)
        a = read("adresser", y)
        b = b.join(a.select("adresse_id", "ejerlavskode", "matrikelnr"), on="adresse_id", how="left")
        b = b.join(parcels, on=["ejerlavskode", "matrikelnr"], how="left")
        return b.join(muni, on="kom", how="left")

    bcache = {y: bef(y) for y in years}

    def convicted(t: int) -> pl.DataFrame:
        k = read("kraf", t).filter(pl.col("afg_afgtyp").is_in(guilty))
        k = k.with_columns(
            pl.when(pl.col("afg_ger7").str.starts_with("31")).then(pl.lit("31"))
            .when(pl.col("afg_ger7").str.starts_with("32")).then(pl.lit("32"))
            .otherwise(pl.col("afg_ger7").str.slice(0, 1)).alias("ger7_prefix")
        ).join(laws, on="ger7_prefix").filter(pl.col("relevant"))
        return k.select("pnr").unique().with_columns(pl.lit(True).alias("conv"))

    yearly = {}
    for t in years[:-1]:
        r = bcache[t + 1]
        akm = read("akm", t)
        x = r.join(akm, on="pnr", how="left").join(convicted(t), on="pnr", how="left")
        x = x.with_columns(pl.col("conv").fill_null(False), pl.col("socio13").is_in(OUTSIDE).fill_null(False).alias("out"))
        nat = x.filter(pl.col("alder") >= 18)["conv"].mean()
        a = x.filter(pl.col("area_id").is_not_null()).group_by("area_id").agg(
            c1n=((pl.col("alder").is_between(18, 64)) & pl.col("out")).sum(),
            c1d=pl.col("alder").is_between(18, 64).sum(),
            c2n=((pl.col("alder") >= 18) & pl.col("conv")).sum(),
            c2d=(pl.col("alder") >= 18).sum(),
        )
        yearly[t] = (a, nat)

    hist_path = d / "history" / "lists.csv"
    hist = pl.read_csv(hist_path) if hist_path.exists() else pl.DataFrame()
    on_parallel: dict[int, set[str]] = {}
    if hist.height:
        for (y,), g in hist.filter(pl.col("list") == "parallel").group_by(["list_year"]):
            on_parallel[int(y)] = set(g["area_id"].to_list())
    print("history years:", sorted(on_parallel), "rows", hist.height)
    prev = {}
    matrix: dict[str, dict[int, str]] = {}
    for Y in years:
        if Y - 2 < years[0]:
            continue
        rs = rule_set(Y)
        r = bcache[Y]
        udda = read("udda", Y - 1).join(hf, on="hfaudd", how="left")
        if rs != "2014":
            udda = udda.filter(pl.col("hfaudd_kilde").is_in([1, 2]))
        else:
            udda = udda.filter(pl.col("hfaudd").is_not_null())
        udda = udda.select("pnr", "basic_only")
        ind = read("ind", Y - 1)
        akm = read("akm", Y - 1).select("pnr", (pl.col("socio13") == 310).alias("student"))
        x = r.join(udda, on="pnr", how="left").join(ind, on="pnr", how="left").join(akm, on="pnr", how="left")
        x = x.with_columns(
            pl.col("basic_only").fill_null(True).alias("basic"),
            (pl.col("alder").is_between(15, 64) & pl.col("skattepligtig").fill_null(False)
             & ~pl.col("student").fill_null(False) & pl.col("perindkialt_13").is_not_null()).alias("c4pop"),
            (pl.col("ie_type").is_in([2, 3]) & ~pl.col("opr_land").is_in(western)).alias("nw"),
        )
        regmean = x.filter(pl.col("c4pop")).group_by("region").agg(rm=pl.col("perindkialt_13").mean())
        a = x.filter(pl.col("area_id").is_not_null()).group_by("area_id").agg(
            res=pl.len(),
            c3=(pl.col("alder").is_between(30, 59) & pl.col("basic")).sum() / pl.col("alder").is_between(30, 59).sum(),
            inc=pl.col("perindkialt_13").filter(pl.col("c4pop")).mean(),
            c5=pl.col("nw").mean(),
        )
        a = a.join(areas.select("area_id", "region"), on="area_id").join(regmean, on="region")
        a = a.with_columns(c4=pl.col("inc") / pl.col("rm"))
        y1, n1 = yearly[Y - 1]
        y2, n2 = yearly[Y - 2]
        nat = (n1 + n2) / 2
        a = a.join(y1, on="area_id", how="left").join(y2, on="area_id", how="left", suffix="_2")
        a = a.with_columns(
            c1=(pl.col("c1n") / pl.col("c1d") + pl.col("c1n_2") / pl.col("c1d_2")) / 2,
            c2=(pl.col("c2n") / pl.col("c2d") + pl.col("c2n_2") / pl.col("c2d_2")) / 2,
        ).with_columns(c2r=pl.col("c2") / nat, elig=pl.col("res") >= 1000)
        if rs == "2014":
            n = ((pl.col("c1") > 0.4).cast(pl.Int32) + (pl.col("c5") > 0.5).cast(pl.Int32) + (pl.col("c2") > 0.027).cast(pl.Int32)
                 + (pl.col("c3") > 0.5).cast(pl.Int32) + (pl.col("c4") < 0.55).cast(pl.Int32))
            a = a.with_columns(vul=pl.lit(False), par=pl.col("elig") & (n >= 3), prev=pl.lit(False))
        else:
            n = ((pl.col("c1") > 0.4).cast(pl.Int32) + (pl.col("c2r") >= 3).cast(pl.Int32)
                 + (pl.col("c3") > 0.6).cast(pl.Int32) + (pl.col("c4") < 0.55).cast(pl.Int32))
            soft = ((pl.col("c1") > 0.3).cast(pl.Int32) + (pl.col("c2r") >= 2).cast(pl.Int32)
                    + (pl.col("c3") > 0.6).cast(pl.Int32) + (pl.col("c4") < 0.65).cast(pl.Int32))
            a = a.with_columns(vul=pl.col("elig") & (n >= 2))
            a = a.with_columns(par=pl.col("vul") & (pl.col("c5") > 0.5),
                               prev=(pl.lit(rs == "2021") & pl.col("elig") & ~pl.col("vul") & (pl.col("c5") > 0.3) & (soft >= 2)))
        a = a.with_columns(comb=pl.lit(rs != "2021") & pl.col("elig") & ((pl.col("c1") >= 0.4) | ((pl.col("c1") >= 0.3) & (pl.col("res") >= 5000))))
        par = set(a.filter("par")["area_id"].to_list())
        on_parallel[Y] = par
        trans = set()
        if Y >= 2018:
            trans = {aid for aid in par if all(aid in on_parallel.get(y, set()) for y in range(Y - 4, Y + 1))}
        vul = set(a.filter("vul")["area_id"].to_list())
        prv = set(a.filter("prev")["area_id"].to_list())
        entered = len(par - prev.get("par", set()))
        left = len(prev.get("par", set()) - par)
        print(f"{Y} [{rs}] areas {a.height} eligible {a['elig'].sum()} non-elig {(~a['elig']).sum()} | vulnerable {len(vul)} "
              f"parallel {len(par)} (+{entered}/-{left}) transformation {len(trans)} prevention {len(prv)} "
              f"combined {a['comb'].sum()} | nat conv {nat:.4f}")
        if args.verbose:
            with pl.Config(tbl_rows=200, tbl_cols=20):
                print(a.filter("elig").select("area_id", "res", "c1", "c2r", "c2", "c3", "c4", "c5", "vul", "par", "prev").sort("area_id"))
        prev = {"par": par}
        for row in a.iter_rows(named=True):
            aid = row["area_id"]
            mark = "." if not row["elig"] else ("T" if aid in trans else "P" if row["par"] else "V" if row["vul"]
                                                 else "F" if row["prev"] else "c" if row["comb"] else "-")
            matrix.setdefault(aid, {})[Y] = mark
    print("per area (T transformation, P parallel, V vulnerable, F prevention, c combined letting, - none, . < 1000):")
    for aid in sorted(matrix):
        print(f"  {aid} " + "".join(matrix[aid].get(y, " ") for y in sorted({y for m in matrix.values() for y in m})))


if __name__ == "__main__":
    main()
