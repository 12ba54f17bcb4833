"""Benchmark of the data-quality validation at national scale.

Builds (once, reused afterwards) a warehouse `benchmarks/data/quality_national.duckdb` with
synthetic stg_ tables for list year 2024 at national scale (5.9 M persons in bef 2024 and 2023,
akm 2023/2022, udda/ind 2023, ~2.9 M addresses per year, kraf, 500 areas with ~30 000 parcels),
generated in DuckDB SQL. When `benchmarks/data/national/registers` exists (made by
`boliglister generate`), its Parquet extracts are loaded instead.

Then runs `validate_inputs` + `validate_outputs` + `write_quality_report` in a fresh process
and prints wall time (GX import separately) and peak RSS.

    uv run python benchmarks/bench_quality.py [--persons 5900000] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
Y = 2024


def build_synthetic(path: Path, persons: int) -> None:
    import duckdb

    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    n_addr = persons // 2
    con.execute("set preserve_insertion_order = false")
    con.execute(f"""create table stg_adresser as
        select y as year, 'A' || lpad(i::varchar, 9, '0') as adresse_id,
               [101, 147, 151, 153, 155][1 + i % 5] as kom,
               (i // 100)::integer as ejerlavskode, ((i % 100) // 2)::varchar || 'a' as matrikelnr
        from range({n_addr}) t(i), (values ({Y}), ({Y - 1})) v(y)""")
    con.execute(f"""create table stg_bef as
        select y as year, 'P' || lpad(i::varchar, 10, '0') as pnr, 1 + i % 2 as koen,
               ((i * 7919) % 100 + ({Y} - y))::integer % 126 as alder, 1 + (i % 3) as ie_type,
               ['DNK', 'TUR', 'SYR', 'DEU', 'POL'][1 + (i * 13) % 5] as opr_land,
               [101, 147, 151, 153, 155][1 + i % 5] as kom,
               case when i % 997 = 0 then null else 'A' || lpad(((i * 31) % {n_addr})::varchar, 9, '0') end as adresse_id
        from range({persons}) t(i), (values ({Y}), ({Y - 1})) v(y)""")
    con.execute(f"""create table stg_akm as
        select y as year, 'P' || lpad(i::varchar, 10, '0') as pnr, [134, 210, 310, 322, 330][1 + i % 5] as socio13
        from range({persons}) t(i), (values ({Y - 1}), ({Y - 2})) v(y)""")
    con.execute(f"""create table stg_udda as
        select {Y - 1} as year, 'P' || lpad(i::varchar, 10, '0') as pnr,
               case when i % 20 = 0 then null else [1001, 1007][1 + i % 2] end as hfaudd, 1 + i % 4 as hfaudd_kilde
        from range({persons}) t(i)""")
    con.execute(f"""create table stg_ind as
        select {Y - 1} as year, 'P' || lpad(i::varchar, 10, '0') as pnr,
               case when i % 50 = 0 then null else ((i * 7919) % 600000)::double end as perindkialt_13,
               i % 40 <> 0 as skattepligtig
        from range({persons}) t(i)""")
    n_kraf = persons // 40
    con.execute(f"""create table stg_kraf as
        select y as year, 'P' || lpad(((i * 17) % {persons})::varchar, 10, '0') as pnr,
               make_date(y, 1 + i % 12, 1 + i % 28) as afg_dato,
               ['1234567', '3123456', '2123456', '3212345'][1 + i % 4] as afg_ger7, 1 + i % 8 as afg_afgtyp
        from range({n_kraf}) t(i), (values ({Y - 1}), ({Y - 2})) v(y)""")
    con.execute("""create table stg_areas as
        select 'AREA' || lpad(i::varchar, 4, '0') as area_id, 'Område ' || i as area_name,
               [101, 147, 151, 153, 155][1 + i % 5] as kom from range(500) t(i)""")
    con.execute("""create table stg_parcels as
        select 'AREA' || lpad((e % 500)::varchar, 4, '0') as area_id, e::integer as ejerlavskode, (m * 2 // 2)::varchar || 'a' as matrikelnr
        from range(3000) a(e), range(10) b(m)""")
    con.execute("create table stg_history (area_id varchar, list_year integer, list varchar)")
    con.execute("""insert into stg_history select area_id, y, 'parallel' from stg_areas, range(2014, 2024) r(y)
                   where area_id < 'AREA0030'""")
    con.close()


def load_generated(path: Path, data: Path) -> None:
    import duckdb

    from pipeline.contract import DUCKDB_TYPES, REGISTERS, available_years

    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    for table, spec in REGISTERS.items():
        for year in available_years(data, table):
            f = data / "registers" / f"{table}_{year}.parquet"
            if not f.is_file():
                continue
            cols = ", ".join(f"cast({c.name} as {DUCKDB_TYPES[c.type]}) as {c.name}" for c in spec.columns)
            sql = f"select {year}::integer as year, {cols} from read_parquet('{f}')"
            try:
                con.execute(f"insert into stg_{table} {sql}")
            except duckdb.CatalogException:
                con.execute(f"create table stg_{table} as {sql}")
    for name, file in (("areas", "areas.csv"), ("parcels", "parcels.csv")):
        con.execute(f"create table stg_{name} as select * from read_csv('{data / 'boundaries' / file}', header=true)")
    hist = data / "history" / "lists.csv"
    if hist.is_file():
        con.execute(f"create table stg_history as select * from read_csv('{hist}', header=true)")
    con.close()


CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import os
os.environ["GX_ANALYTICS_ENABLED"] = "false"
import great_expectations  # noqa: F401  (measured separately)
t1 = time.perf_counter()
import duckdb
from pathlib import Path
from pipeline.quality import validate_inputs, validate_outputs, write_quality_report
sys.path.insert(0, sys.argv[3])
from tests.test_quality_support import areas_table
con = duckdb.connect(sys.argv[1], read_only=True)
t2 = time.perf_counter()
inputs = validate_inputs(con, int(sys.argv[2]))
t3 = time.perf_counter()
outputs = validate_outputs(areas_table(int(sys.argv[2])), areas_table(int(sys.argv[2]) - 1))
write_quality_report([inputs, outputs], Path(sys.argv[4]))
t4 = time.perf_counter()
print(json.dumps({"gx_import_s": t1 - t0, "validate_inputs_s": t3 - t2, "outputs_and_report_s": t4 - t3,
                  "total_s": t4 - t0, "checks": len(inputs.outcomes) + len(outputs.outcomes),
                  "failed_errors": len(inputs.errors), "failed_warnings": len(inputs.warnings),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=5_900_000)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    db = DATA / f"quality_national_{args.persons}.duckdb"
    generated = DATA / "national"
    if args.rebuild or not db.is_file():
        t = time.perf_counter()
        if (generated / "registers").is_dir():
            load_generated(db, generated)
            source = f"loaded {generated}"
        else:
            build_synthetic(db, args.persons)
            source = "synthetic SQL"
        print(f"built warehouse ({source}) in {time.perf_counter() - t:.1f} s: {db}")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), str(Y), str(ROOT), str(DATA / "quality_report")],
        capture_output=True, text=True, cwd=ROOT,
    )
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"persons per bef year: {args.persons:,}")
    print(f"GX import:                 {res['gx_import_s']:6.2f} s")
    print(f"validate_inputs (list {Y}): {res['validate_inputs_s']:6.2f} s")
    print(f"outputs + report:          {res['outputs_and_report_s']:6.2f} s")
    print(f"total wall time:           {res['total_s']:6.2f} s")
    print(f"peak RSS:                  {res['peak_rss_mb']:6.0f} MB")
    print(f"checks: {res['checks']}, failed errors: {res['failed_errors']}, failed warnings: {res['failed_warnings']}")
    print(f"children maxrss (KB): {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")


if __name__ == "__main__":
    main()
