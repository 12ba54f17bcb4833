"""The yardstick of issue 3: one hand-written DuckDB query pipeline over the Parquet extracts that
computes the per-area counts of one list year (residents, C1-C5 counts, national convictions,
regional incomes), with the code lists of rule set 2021 written into the query. No validation, no
history, no outputs: the floor that the real run is compared with. Prints wall time, peak RSS and
a digest of the counts. benchmarks/check_yardstick.py checks that its counts are those the run
publishes (else the ratio would compare unlike work).

    uv run python benchmarks/yardstick.py --data benchmarks/data/national --year 2024
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import duckdb

SQL = """
with
areas as (select * from read_csv($areas, header=true, all_varchar=true)),
parcels as (select area_id, cast(ejerlavskode as integer) as ejerlavskode, matrikelnr
            from read_csv($parcels, header=true, all_varchar=true)),
muni as (select cast(kom as integer) as kom, cast(region as integer) as region
         from read_csv($municipalities, header=true, all_varchar=true)),
countries as (select opr_land, western = 'true' as western from read_csv($countries, header=true, all_varchar=true)),
res_y as (select b.pnr, p.area_id, b.alder, b.ie_type, b.opr_land from read_parquet($bef_y) b
          join read_parquet($adr_y) a using (adresse_id)
          join parcels p on p.ejerlavskode = a.ejerlavskode and p.matrikelnr = a.matrikelnr),
res_p as (select b.pnr, p.area_id, b.alder from read_parquet($bef_p) b
          join read_parquet($adr_p) a using (adresse_id)
          join parcels p on p.ejerlavskode = a.ejerlavskode and p.matrikelnr = a.matrikelnr),
conv_last as (select distinct pnr from read_parquet($kraf_last)
              where afg_afgtyp between 1 and 5 and (afg_ger7 like '1%' or afg_ger7 like '31%' or afg_ger7 like '32%')),
conv_prev as (select distinct pnr from read_parquet($kraf_prev)
              where afg_afgtyp between 1 and 5 and (afg_ger7 like '1%' or afg_ger7 like '31%' or afg_ger7 like '32%')),
c1_last as (select area_id, count(*) d, count(*) filter (where socio13 in (210,220,321,322,323,330,410)) n
            from res_y left join read_parquet($akm_last) using (pnr) where alder between 18 and 64 group by all),
c1_prev as (select area_id, count(*) d, count(*) filter (where socio13 in (210,220,321,322,323,330,410)) n
            from res_p left join read_parquet($akm_prev) using (pnr) where alder between 18 and 64 group by all),
c2_last as (select area_id, count(*) d, count(c.pnr) n from res_y left join conv_last c using (pnr)
            where alder >= 18 group by all),
c2_prev as (select area_id, count(*) d, count(c.pnr) n from res_p left join conv_prev c using (pnr)
            where alder >= 18 group by all),
nat as (select (select count(*) from read_parquet($bef_y) where alder >= 18) d_last,
               (select count(*) from read_parquet($bef_y) b join conv_last using (pnr) where alder >= 18) n_last,
               (select count(*) from read_parquet($bef_p) where alder >= 18) d_prev,
               (select count(*) from read_parquet($bef_p) b join conv_prev using (pnr) where alder >= 18) n_prev),
c3 as (select area_id, count(*) d,
              count(*) filter (where u.hfaudd is null or u.hfaudd_kilde not in (1, 2) or u.hfaudd < 2000) n
       from res_y left join read_parquet($udda) u using (pnr) where alder between 30 and 59 group by all),
inc as (select b.pnr, m.region, round(i.perindkialt_13 * 100)::bigint ore from read_parquet($bef_y) b
        join read_parquet($ind) i using (pnr) left join read_parquet($akm_last) k using (pnr)
        join muni m using (kom)
        where b.alder between 15 and 64 and i.skattepligtig and i.perindkialt_13 is not null
          and coalesce(k.socio13, 0) <> 310),
region_inc as (select region, count(*) n, sum(ore) s from inc group by all),
c4 as (select area_id, count(*) n, sum(ore) s from res_y join inc using (pnr) group by all),
c5 as (select area_id, count(*) residents,
              count(*) filter (where ie_type in (2, 3) and not coalesce(western, true)) n
       from res_y left join countries using (opr_land) group by all)
select a.area_id, c5.residents, c1_prev.n, c1_prev.d, c1_last.n, c1_last.d, c2_prev.n, c2_prev.d,
       c2_last.n, c2_last.d, c3.n, c3.d, c4.n, c4.s, r.n, r.s, c5.n, nat.*
from areas a
left join c1_prev using (area_id) left join c1_last using (area_id)
left join c2_prev using (area_id) left join c2_last using (area_id)
left join c3 using (area_id) left join c4 using (area_id) left join c5 using (area_id)
left join muni m on m.kom = cast(a.kom as integer) left join region_inc r on r.region = m.region
cross join nat
order by a.area_id
"""


def parameters(data: Path, year: int) -> dict[str, str]:
    """The files of list year `year` in the data directory `data`, as the query's parameters."""
    d, y = Path(data), year
    reg = d / "registers"
    ref = Path(__file__).resolve().parents[1] / "pipeline" / "reference"
    return {
        "areas": str(d / "boundaries" / "areas.csv"),
        "parcels": str(d / "boundaries" / "parcels.csv"),
        "municipalities": str(ref / "municipalities.csv"),
        "countries": str(ref / "countries.csv"),
        "bef_y": str(reg / f"bef_{y}.parquet"),
        "bef_p": str(reg / f"bef_{y - 1}.parquet"),
        "adr_y": str(reg / f"adresser_{y}.parquet"),
        "adr_p": str(reg / f"adresser_{y - 1}.parquet"),
        "akm_last": str(reg / f"akm_{y - 1}.parquet"),
        "akm_prev": str(reg / f"akm_{y - 2}.parquet"),
        "kraf_last": str(reg / f"kraf_{y - 1}.parquet"),
        "kraf_prev": str(reg / f"kraf_{y - 2}.parquet"),
        "udda": str(reg / f"udda_{y - 1}.parquet"),
        "ind": str(reg / f"ind_{y - 1}.parquet"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("benchmarks/data/national"))
    ap.add_argument("--year", type=int, default=2024)
    args = ap.parse_args()
    params = parameters(args.data, args.year)
    t0 = time.perf_counter()
    rows = duckdb.connect().execute(SQL, params).fetchall()
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    residents = sum(r[1] or 0 for r in rows)
    print(f"yardstick list year {args.year}: {len(rows)} areas, {residents} residents in areas")
    print(f"wall {wall:.1f} s, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
