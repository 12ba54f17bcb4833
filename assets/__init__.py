"""The Dagster layer of boliglister: assets, partitions, resources, checks, schedules."""

import os
import warnings

# No usage statistics from a tool for confidential data, and no network call anywhere.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# numpy's OpenBLAS starts a pool of spinning threads; nothing here does linear algebra (DuckDB
# computes, pandas and GX handle small frames), and on two cores those threads take CPU from the
# run. Read when numpy is first imported (in this process or in the GX worker it spawns).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Dagster's BetaWarning and PreviewWarning about the APIs used here, matched by their text so that
# importing this package (the command line, the GX worker process) does not import Dagster itself.
warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
