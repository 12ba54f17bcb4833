"""The GX expectation suites, kept as JSON files in `expectations/` (one per table or aggregate frame).

Each expectation carries in `meta`: `id` (unique in the suite; its line in the metadata of the
suite's Dagster check `gx_<suite>`), `severity` ("error" stops the run, "warning" is reported),
`description`, and optionally `column`, `table`, `year_offset` (relative to the list year) for
the error line.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.quality.result import SEVERITIES

EXPECTATIONS_DIR = Path(str(resources.files("expectations")))

REGISTER_SUITES = ("bef", "akm", "udda", "ind", "kraf", "adresser")
LIST_YEAR_INPUT_SUITES = ("coverage", "boundary_areas", "boundary_parcels", "boundary_residents", "history")
OUTPUT_SUITES = ("areas_output", "list_counts")
ALL_SUITES = (*REGISTER_SUITES, *LIST_YEAR_INPUT_SUITES, *OUTPUT_SUITES)


@lru_cache(maxsize=None)
def _load(name: str) -> str:
    return (EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8")


def load_suite(name: str) -> dict[str, Any]:
    """The suite as a dict (a fresh copy each call), checked for the meta fields we rely on."""
    suite = json.loads(_load(name))
    ids = set()
    for exp in suite["expectations"]:
        meta = exp.get("meta", {})
        if meta.get("severity") not in SEVERITIES:
            raise ValueError(f"expectations/{name}.json: expectation {exp['type']} has no valid meta.severity")
        if not meta.get("id") or meta["id"] in ids:
            raise ValueError(f"expectations/{name}.json: missing or duplicate meta.id {meta.get('id')!r}")
        ids.add(meta["id"])
    return suite


def suite_checks(name: str) -> list[dict[str, Any]]:
    """(name, id, severity, description, table, column) of each expectation of a suite (what the suite's
    Dagster check reports on)."""
    suite = load_suite(name)
    table = suite.get("meta", {}).get("table", name)
    return [
        {
            "name": f"{name}_{e['meta']['id']}",
            "id": e["meta"]["id"],
            "severity": e["meta"]["severity"],
            "description": e["meta"]["description"],
            "table": e["meta"].get("table", table),
            "column": e["meta"].get("column"),
        }
        for e in suite["expectations"]
    ]
