"""Resources shared by every asset: the warehouse and the settings of a run."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline import warehouse

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / "data_samples"
DEFAULT_OUT = Path("output")


class Settings(dg.ConfigurableResource):
    """Where the inputs are and how to compute. One value per run of `boliglister run`."""

    data_dir: str
    boundaries_dir: str = ""  # "" = DATA/boundaries
    out_dir: str
    rules: str = ""  # "" = the rule set in force for each year; else a name or a TOML file
    history: str = "official"  # or "recompute"
    requested_years: list[int] = []  # list years the run was asked for (`--rules` applies to these)
    # when the run began (ISO 8601, UTC; set by runner.run_list_years): the manifest's `started`.
    # "" outside such a run (a materialisation from the UI or a test): the publication step's start
    run_started: str = ""

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def boundaries_path(self) -> Path:
        return Path(self.boundaries_dir) if self.boundaries_dir else Path(self.data_dir) / "boundaries"

    @property
    def out_path(self) -> Path:
        return Path(self.out_dir)

    @property
    def warehouse_path(self) -> Path:
        return self.out_path / "warehouse.duckdb"

    def rules_for(self, list_year: int):
        """The rule set of `list_year` in this run: `rules` for the requested list years, else
        the one in force (pipeline.rules.ruleset_for)."""
        from pipeline.rules import ruleset_for

        return ruleset_for(list_year, self.rules, self.requested_years)


def warehouse_for(settings: Settings) -> DuckDBResource:
    return DuckDBResource(database=str(settings.warehouse_path), connection_config=dict(warehouse.CONFIG))


def default_settings() -> Settings:
    """Settings for `boliglister ui` and `dagster dev`: environment variables or the defaults."""
    return Settings(
        data_dir=os.environ.get("BOLIGLISTER_DATA", str(DEFAULT_DATA)),
        boundaries_dir=os.environ.get("BOLIGLISTER_BOUNDARIES", ""),
        out_dir=os.environ.get("BOLIGLISTER_OUT", str(DEFAULT_OUT.resolve())),
        rules=os.environ.get("BOLIGLISTER_RULES", ""),
        history=os.environ.get("BOLIGLISTER_HISTORY", "official"),
    )


def resources_for(settings: Settings) -> dict:
    return {"settings": settings, "warehouse": warehouse_for(settings)}
