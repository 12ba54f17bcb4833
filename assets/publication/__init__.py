"""Dagster assets for publication (registers itself as `defs`)."""

import dagster as dg

defs = dg.Definitions()
