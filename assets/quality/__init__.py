"""Dagster assets for quality (registers itself as `defs`)."""

import dagster as dg

defs = dg.Definitions()
