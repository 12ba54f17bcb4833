"""The files of a list year under OUT/Y/, written atomically (a temporary folder renamed into
place) after the data-quality validation of the inputs and outputs has passed. An error-severity
failure publishes nothing and leaves the last good outputs as they were."""


import datetime as dt
import json
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.partitions import years
from assets.resources import Settings
from pipeline import __version__, calculate, contract, outputs, reference
from pipeline.errors import InputError
from pipeline.ingest import file_sha256
from pipeline.quality.store import load_result
from pipeline.warehouse import connect

GROUP = "publication"


def _list_years_computed(con, list_year: int) -> list[int]:
    """List year Y and the earlier list years its history computed from the registers (METHOD.md § 6)."""
    computed = [y for y, source in calculate.history_sources(con, list_year).items() if source == "computed"]
    return [*computed, list_year]


def registers_read(con, list_year: int) -> list[tuple[str, int]]:
    """The register extracts (table, data year) that list year Y's outputs were computed from: its
    own, and those of every earlier list year its history computed from the registers."""
    needed = {tr for y in _list_years_computed(con, list_year) for tr in contract.needed_registers(y)}
    return sorted(needed, key=lambda tr: (tr[1], tr[0]))


def _inputs_read(con, settings: Settings, list_year: int) -> dict:
    files: dict[str, dict] = {}
    for table, year in registers_read(con, list_year):
        rows = con.execute(
            "select source_path, sha256, rows from meta_ingest where table_name = $t and year = $y",
            {"t": table, "y": year},
        ).fetchall()
        if rows:
            path, sha, n = rows[0]
            files[f"registers/{Path(path).name}"] = {"sha256": sha, "rows": int(n)}
    bdir = settings.boundaries_path
    for name in ("areas.csv", "parcels.csv"):
        p = bdir / name
        if p.is_file():
            files[f"boundaries/{name}"] = {"sha256": file_sha256(p)}
    hist = settings.data_path / "history" / "lists.csv"
    if hist.is_file():
        files["history/lists.csv"] = {"sha256": file_sha256(hist)}
    # the rule-set files: the list year's (a --rules file, or the built-in in force) and those of
    # the earlier list years the history computed (METHOD.md § 6: they keep the one in force then)
    from pipeline.rules import RULES_DIR

    for y in _list_years_computed(con, list_year):
        path = Path(settings.rules_for(y).source)
        if path.is_file():
            builtin = path.resolve().parent == RULES_DIR.resolve()
            key = f"rules/{path.name}" if builtin else f"rules/--rules/{path.name}"
            files[key] = {"sha256": file_sha256(path), "origin": "package" if builtin else "file"}
            if not builtin:  # the file the analyst gave, where it was read
                files[key]["path"] = str(path.resolve())
    for ref in reference.reference_files(settings.data_path):
        origin = "data" if ref.path.parent.parent == settings.data_path else "package"
        files[f"reference/{ref.name}.csv"] = {"sha256": ref.sha256, "origin": origin}
    return dict(sorted(files.items()))


def run_started(settings: Settings, fallback: dt.datetime) -> dt.datetime:
    """When the run began (`Settings.run_started`, set by runner.run_list_years); `fallback` (the
    start of this step) for a materialisation outside it, e.g. from the UI or a test."""
    return dt.datetime.fromisoformat(settings.run_started) if settings.run_started else fallback


@dg.asset(
    partitions_def=years,
    group_name=GROUP,
    deps=[dg.AssetDep("areas", partition_mapping=dg.TimeWindowPartitionMapping())],
    description="OUT/Y/: areas.csv, areas.parquet, national.json, lists.xlsx, report.html, quality/, "
    "manifest.json, published together after the quality validation passes.",
    kinds={"csv", "excel", "html"},
)
def publication(
    context: dg.AssetExecutionContext, settings: Settings, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    from pipeline import quality  # GX is imported lazily: it is slow to import
    from pipeline.publish import documents

    started = run_started(settings, dt.datetime.now(dt.timezone.utc))
    y = int(context.partition_key)
    with connect(warehouse.database) as con:
        docs = documents.read_inputs(con, y)
        if docs is None:
            raise InputError(f"list year {y} was not computed with the boundaries in use", year=y)
        areas, national = docs.areas, docs.national
        # the results of the checks that ran on the register assets and on `areas`: every extract
        # the outputs were computed from (DATA_CONTRACT.md), the year's own first, then those of the
        # earlier list years its history computed from the registers, as the manifest lists them
        own = contract.needed_registers(y)
        results = []
        for table, year in [*own, *(tr for tr in registers_read(con, y) if tr not in own)]:
            stored = load_result(con, table, year)
            results.append(stored if stored is not None else quality.validate_register(con, table, year))
        stored = load_result(con, "list_year", y)
        if stored is None:  # the checks were not run (e.g. a direct materialize without them)
            # last year's lists for the list-count suite, as the check areas_quality takes them
            prev, prev_lists = calculate.previous_areas(con, settings.out_path, y)
            stored = quality.validate_list_year_inputs(con, y) + quality.validate_outputs(
                areas, prev, settings.rules_for(y), prev_lists)
        results.append(stored)
        meta = con.execute(
            "select boundary_version, ruleset, history_sources from meta_areas where list_year = $y", {"y": y}
        ).fetchall()[0]
        inputs = _inputs_read(con, settings, y)
    for r in results:
        r.raise_for_errors()  # error severity: nothing is published
    ruleset = national["ruleset"]

    drawn = {"documents": "drawn at publication"}

    def extra(folder: Path) -> None:
        # drawn while the quality suites ran (areas_quality) from these very inputs, or now
        if documents.take(docs, folder):
            drawn["documents"] = "drawn while the quality suites ran"
        else:
            documents.render(docs, folder)
        quality.write_quality_report(results, folder / "quality")

    manifest = {
        "list_year": y,
        "ruleset": ruleset,
        "parameters": national["parameters"],
        "history_mode": settings.history,
        "history_sources": json.loads(meta[2]),
        "boundary_version": meta[0],
        "boundaries": str(settings.boundaries_path),
        "data": str(settings.data_path),
        "inputs": inputs,
        "package": {"name": "boliglister", "version": __version__},
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    folder = outputs.publish_year(settings.out_path, y, areas, national, manifest, extra)
    warnings = sum(len(r.warnings) for r in results)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "areas": areas.height,
            "quality_warnings": warnings,
            **drawn,
            **{k: int(areas[k].sum()) for k in ("vulnerable", "parallel", "transformation", "prevention")},
        }
    )


defs = dg.Definitions(assets=[publication])
