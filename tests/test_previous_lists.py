"""The comparison with last year (new/continuing marks, the areas that left, the movements) uses
last year as the history of the list year took it: from the history file, which holds only the
parallel and transformation lists, when that year came from there (METHOD.md § 6-7)."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner

from assets.cli import main
from tests.test_calculation import Y
from tests.test_cli import _world


def _column(ws, heading: str) -> dict[str, object]:
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    area, col = head.index("Boligområde"), head.index(heading)
    return {r[area]: r[col] for r in rows[1:] if r[area]}


def test_last_year_from_the_history_file_is_compared_on_its_lists(tmp_path):
    data = _world().write_data_dir(tmp_path / "data")  # history: area A parallel 2014..Y-1
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out / str(Y) / "lists.xlsx")
    # A is parallel this year and was parallel in Y-1 by the history file: continuing
    assert _column(wb["Parallelsamfund"], "Ny på listen") == {"Askeparken": "Nej"}
    # the file has no vulnerable list: not compared
    assert _column(wb["Udsatte boligområder"], "Ny på listen") == {"Askeparken": None}
    left = [r[0] for r in wb["Udgået siden sidste år"].iter_rows(values_only=True)]
    note = (f"Listerne for {Y - 1} er taget fra historikfilen, som kun har parallelsamfund: "
            "de øvrige lister sammenlignes ikke med sidste år.")  # fmt: skip
    assert note in left
    assert note in (out / str(Y) / "report.html").read_text(encoding="utf-8")
