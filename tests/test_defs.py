"""The Definitions load, and the asset graph matches its snapshot (a change to the graph is a
deliberate change of this file: regenerate with `UPDATE_SNAPSHOTS=1 pytest tests/test_defs.py`)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from assets.definitions import build_defs, defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


def graph_text(d: dg.Definitions) -> str:
    graph = d.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parts = "yearly" if node.partitions_def is not None else "unpartitioned"
        lines.append(f"{key.to_user_string()} [{node.group_name}, {parts}]")
        for parent in sorted(node.parent_keys, key=lambda k: k.to_user_string()):
            mapping = graph.get_partition_mapping(key, parent)
            detail = ""
            if isinstance(mapping, dg.TimeWindowPartitionMapping) and (mapping.start_offset or mapping.end_offset):
                detail = f" (years {mapping.start_offset:+d}..{mapping.end_offset:+d})"
            lines.append(f"  <- {parent.to_user_string()}{detail}")
        checks = sorted(c.name for c in graph.get_check_keys_for_assets([key]))
        blocking = sum(1 for c in graph.get_check_keys_for_assets([key]) if graph.get_check_spec(c).blocking)
        if checks:
            lines.append(f"  checks: {len(checks)} ({blocking} blocking)")
    for job in sorted(d.jobs or [], key=lambda j: j.name):
        lines.append(f"job {job.name}")
    for sched in sorted(d.schedules or [], key=lambda s: s.name):
        lines.append(f"schedule {sched.name} -> {sched.job_name}")
    return "\n".join(lines) + "\n"


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    assert set(defs.resources) == {"settings", "warehouse"}


def test_asset_graph_snapshot():
    text = graph_text(build_defs())
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text()


def test_history_dependency_is_modelled():
    graph = build_defs().resolve_asset_graph()
    areas = dg.AssetKey("areas")
    mapping = graph.get_partition_mapping(areas, areas)
    assert (mapping.start_offset, mapping.end_offset) == (-1, -1)  # a list year depends on the one before
