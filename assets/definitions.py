"""The one Definitions object: each concern folder registers its own `defs`; this merges them."""

from __future__ import annotations

import dagster as dg

from assets import calculation, ingestion, outputs, publication, quality
from assets.resources import Settings, default_settings, resources_for


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or default_settings()
    return dg.Definitions.merge(
        ingestion.defs,
        calculation.defs,
        outputs.defs,
        quality.defs,
        publication.defs,
        dg.Definitions(resources=resources_for(settings)),
    )


defs = build_defs()
