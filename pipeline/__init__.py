"""boliglister: the Danish lists of social-housing areas, computed from register extracts.

`pipeline` is the domain core (rule sets, criteria, history, I/O helpers). It never imports
Dagster; the Dagster layer lives in the top-level `assets` package.
"""

__version__ = "0.1.0"
