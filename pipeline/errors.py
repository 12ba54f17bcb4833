"""One error type for everything a user can get wrong: it names the file, column and year."""

from __future__ import annotations


class InputError(Exception):
    """Bad or missing input. `str(err)` is the one line the CLI prints.

    Never put a person-level value (a pnr, an address id, one person's income) in `problem`:
    say how many rows are affected instead.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        column: str | None = None,
        year: int | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.column = column
        self.year = year
        super().__init__(self.line())

    def line(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.column:
            where.append(f"column {self.column}")
        if self.year is not None:
            where.append(f"year {self.year}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.problem}" if prefix else self.problem


class QualityError(InputError):
    """An error-severity data-quality check failed; nothing is published."""
