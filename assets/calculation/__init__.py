"""Dagster assets for calculation (registers itself as `defs`)."""

import dagster as dg

defs = dg.Definitions()
