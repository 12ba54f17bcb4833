"""Yearly partitions. A partition key is a year ("2024"): a data year for the registers,
a list year for the lists. end_offset=1 includes the current calendar year, whose list is
published on 1 December."""

import dagster as dg

START_YEAR = "2005"

years = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start=START_YEAR, fmt="%Y", end_offset=1
)
