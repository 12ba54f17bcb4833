"""Publication outputs: the workbook (lists.xlsx), the HTML report (report.html) and the
comparison of two runs (`boliglister compare`)."""

from pipeline.publish.common import read_areas_csv
from pipeline.publish.report import write_report
from pipeline.publish.workbook import write_workbook

__all__ = ["read_areas_csv", "write_report", "write_workbook"]
