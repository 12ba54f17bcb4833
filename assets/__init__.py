"""The Dagster layer of boliglister: assets, partitions, resources, checks, schedules."""

import os
import warnings

# No usage statistics from a tool for confidential data, and no network call anywhere.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import dagster as dg  # noqa: E402

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
