"""Dagster assets for ingestion (registers itself as `defs`)."""

import dagster as dg

defs = dg.Definitions()
