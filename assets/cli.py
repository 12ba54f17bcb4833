"""The `boliglister` command (spec/OUTPUTS.md). Every error is one line and a non-zero exit;
`--debug` shows the traceback."""

from __future__ import annotations

import os
import re
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

import click

from pipeline import __version__
from pipeline.errors import InputError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def parse_years(text: str) -> list[int]:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", text or "")
    if not m:
        raise click.BadParameter(f"{text!r} is not a year or a range like 2016-2024")
    a = int(m.group(1))
    b = int(m.group(2) or a)
    if b < a:
        raise click.BadParameter(f"{text!r}: the range ends before it starts")
    return list(range(a, b + 1))


class Context:
    debug = False


def fail(exc: BaseException) -> None:
    if Context.debug:
        traceback.print_exception(exc)
        if getattr(exc, "details", ""):
            click.echo(exc.details, err=True)
    click.echo(f"boliglister: error: {exc}", err=True)
    sys.exit(EXIT_ERROR)


class OneLineUsageError(click.UsageError):
    """A usage error shown as one line, in the style of `fail`:
    `boliglister: error: MESSAGE (see boliglister CMD --help)`. Exit code 2 (click's)."""

    def __init__(self, message: str, ctx: click.Context | None = None, help_command: str | None = None) -> None:
        super().__init__(message, ctx)
        self.help_command = help_command or _help_command(ctx)

    def show(self, file=None) -> None:
        click.echo(f"boliglister: error: {self.format_message()} (see {self.help_command})",
                   file=file, err=file is None)  # fmt: skip


def _help_command(ctx: click.Context | None) -> str:
    """`boliglister [SUBCOMMAND] --help` for the context of a usage error, whatever name the
    program was started by (`python -m assets.cli`, the console script, CliRunner's)."""
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["boliglister", *reversed(names), "--help"])


def _one_line(exc: click.UsageError, subcommand: str | None = None) -> click.UsageError:
    """`exc` as one line. `subcommand`: the command being started, for an error click raises
    without a context (e.g. an option given without its value)."""
    if isinstance(exc, (OneLineUsageError, click.exceptions.NoArgsIsHelpError)):
        return exc  # already one line; or the help asked for by giving no arguments
    help_command = f"boliglister {subcommand} --help" if exc.ctx is None and subcommand else None
    return OneLineUsageError(exc.format_message(), exc.ctx, help_command)


@contextmanager
def _one_line_usage_errors(ctx: click.Context | None = None):
    try:
        yield
    except click.UsageError as exc:
        new = _one_line(exc, ctx.invoked_subcommand if ctx is not None else None)
        if new is exc:
            raise
        raise new from None


class Group(click.Group):
    """The command group whose usage errors (bad or missing options and arguments, unknown
    commands, and the commands' own UsageErrors) are one line each, like every other error."""

    def make_context(self, info_name, args, parent=None, **extra):
        with _one_line_usage_errors():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        with _one_line_usage_errors(ctx):
            return super().invoke(ctx)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="boliglister")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(debug: bool) -> None:
    """The Danish lists of social-housing areas (udsatte boligområder, parallelsamfund,
    omdannelsesområder, forebyggelsesområder), computed from register extracts."""
    Context.debug = debug


# assets.resources.DEFAULT_DATA; Dagster itself is imported only by the commands that run it (a
# plain `--help` stays fast, and so does the GX worker process, which imports this module).
DEFAULT_DATA = Path(__file__).resolve().parent.parent / "data_samples"


def _settings(data: Path, boundaries: Path | None, out: Path, rules: str, history: str):
    from assets.resources import Settings

    return Settings(
        data_dir=str(Path(data).resolve()),
        boundaries_dir=str(Path(boundaries).resolve()) if boundaries else "",
        out_dir=str(Path(out).resolve()),
        rules=rules or "",
        history=history,
    )


@main.command()
@click.option("--year", "year", type=int, help="The list year (published 1 December).")
@click.option("--years", "years_range", help="A range of list years, e.g. 2016-2024, run in order.")
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default="the shipped data_samples/",
              help="Data directory (registers/, boundaries/, history/, reference/).")  # fmt: skip
@click.option("--boundaries", type=click.Path(path_type=Path), default=None,
              help="Boundary version to use (a folder with areas.csv and parcels.csv). Default DATA/boundaries.")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("output"), show_default=True,
              help="Output directory (OUT/Y/ per list year; OUT/warehouse.duckdb).")  # fmt: skip
@click.option("--rules", default=None, help="Rule set name (2014, 2018, 2021) or TOML file for the requested years. "
              "Default: the rule set in force for each year.")  # fmt: skip
@click.option("--history", type=click.Choice(["official", "recompute"]), default="official", show_default=True,
              help="Earlier list years from the history file (official) or recomputed from the registers.")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress display.")
def run(year, years_range, data, boundaries, out, rules, history, quiet) -> None:
    """Compute the lists of list year Y (or a range) and write OUT/Y/."""
    if (year is None) == (years_range is None):
        raise click.UsageError("give exactly one of --year Y or --years A-B")
    years = [year] if year is not None else parse_years(years_range)
    if rules is not None and not rules.strip():
        raise click.BadParameter("give a rule set name (2014, 2018, 2021) or a TOML file, or leave the option out",
                                 param_hint="'--rules'")  # fmt: skip
    rules = rules or ""
    try:
        from pipeline.quality import gx_runner

        # GX (seconds of imports) starts in its own process first, on the other core, while this
        # one imports Dagster (assets.resources, for the settings) and the asset graph.
        gx_runner.start_worker()
        settings = _settings(data, boundaries, out, rules, history)
        from assets.runner import run_list_years
        from pipeline.rules import load_ruleset

        if rules:
            load_ruleset(rules)  # a bad --rules fails before anything runs
        folders = _with_progress(quiet, lambda cb: run_list_years(years, settings, progress=cb))
    except KeyboardInterrupt:
        # the year being computed was staged in a temporary folder, removed on the way out
        click.echo("boliglister: interrupted: the list year being computed was not published "
                   "(its earlier outputs are untouched)", err=True)  # fmt: skip
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - one line for every error
        fail(exc)
        return
    for folder in folders:
        click.echo(f"wrote {folder}{_warnings_note(folder)}")


def _warnings_note(folder: Path) -> str:
    """", with N data-quality warnings (see .../quality/index.html)" when the year's report has
    any (a history row of an unknown area, a parcel matching no address, ...); counts only."""
    import json

    try:
        summary = json.loads((folder / "quality" / "summary.json").read_text(encoding="utf-8"))
        n = int(summary["summary"]["failed_warnings"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if not n:
        return ""
    return f", with {n} data-quality warning{'s' if n != 1 else ''} (see {folder / 'quality' / 'index.html'})"


def _with_progress(quiet: bool, fn):
    if quiet or not sys.stderr.isatty() and os.environ.get("BOLIGLISTER_PROGRESS") != "1":
        def plain(label: str, i: int, total: int) -> None:
            if not quiet:
                click.echo(f"[{i}/{total}] {label}" if total else label, err=True)

        return fn(plain)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task("starting", total=None)

        def cb(label: str, i: int, total: int) -> None:
            bar.update(task, description=label, completed=max(i - 1, 0), total=total or None)

        result = fn(cb)
        bar.update(task, description="done", completed=bar.tasks[0].total or 1)
        return result


@main.command()
@click.argument("out_a", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("out_b", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--year", type=int, required=True, help="The list year to compare.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write the CSV (default OUT_B/compare/Y/compare_<A>.csv).")  # fmt: skip
def compare(out_a: Path, out_b: Path, year: int, csv_path: Path | None) -> None:
    """Which areas change list between two runs (e.g. two boundary versions), and by how much
    each criterion moves (percentage points, B - A)."""
    try:
        from pipeline.publish.compare import default_compare_path, run_compare

        path = run_compare(out_a, out_b, year, csv_path or default_compare_path(out_a, out_b, year))
        click.echo(f"wrote {path}")
    except Exception as exc:  # noqa: BLE001
        fail(exc)


@main.command()
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default="data_samples/")
@click.option("--year", type=int, default=None, help="List year whose inputs to check (default: the newest the data allow).")
@click.option("--boundaries", type=click.Path(path_type=Path), default=None)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("output"), show_default=True,
              help="The report goes to OUT/check/Y/quality/.")  # fmt: skip
def check(data: Path, year: int | None, boundaries: Path | None, out: Path) -> None:
    """Data-quality validation only: writes the report; exit 1 on an error-severity failure."""
    settings = _settings(data, boundaries, out, "", "official")
    try:
        from assets.runner import run_check

        code, folder, line = run_check(settings, year)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
        return
    click.echo(f"wrote {folder}")
    if code:
        click.echo(f"boliglister: error: {line}", err=True)
        sys.exit(EXIT_ERROR)


@main.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Data directory to write.")
@click.option("--persons", type=int, default=150_000, show_default=True, help="Persons in the first year (5_900_000 is national scale).")
@click.option("--years", "years_range", default="2012-2024", show_default=True, help="Data years A-B.")
@click.option("--seed", type=int, default=20241201, show_default=True)
@click.option("--area-share", type=float, default=None, help="Share of the population living in housing areas (default ~6 %).")
def generate(out: Path, persons: int, years_range: str, seed: int, area_share: float | None) -> None:
    """Synthetic register extracts, boundaries and history at any scale (deterministic)."""
    years = parse_years(years_range)
    try:
        from pipeline.generate import generate as gen

        summary = gen(out, persons, (years[0], years[-1]), seed,
                      progress=lambda msg: click.echo(msg, err=True), area_share=area_share)  # fmt: skip
    except Exception as exc:  # noqa: BLE001
        fail(exc)
        return
    click.echo(f"wrote {out}: {summary}")


@main.command()
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default="data_samples/")
@click.option("--boundaries", type=click.Path(path_type=Path), default=None)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("output"), show_default=True)
@click.option("--port", type=int, default=3000, show_default=True)
def ui(data: Path, boundaries: Path | None, out: Path, port: int) -> None:
    """The Dagster web UI on 127.0.0.1 over the same definitions (telemetry off)."""
    settings = _settings(data, boundaries, out, "", "official")
    try:
        from assets.ui import run_ui

        code = run_ui(settings, host="127.0.0.1", port=port)
    except Exception as exc:  # noqa: BLE001
        fail(exc)
        return
    sys.exit(code)


def entry() -> None:
    """The console script: `main`, then a quick exit.

    Once the command has finished (files written and renamed, connections closed, output
    flushed) and every exit handler has run, the process ends without tearing down its modules
    one by one: with Dagster, DuckDB, polars and pandas loaded that teardown took over a second
    of a run. The exit code is the command's."""
    import atexit

    from pipeline.gc_policy import collect_less_often

    collect_less_often()
    code: list[int] = [0]

    def quick_exit() -> None:  # registered first, so it runs after every other exit handler
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code[0])

    atexit.register(quick_exit)
    try:
        main(standalone_mode=True)
    except SystemExit as exc:
        code[0] = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise


if __name__ == "__main__":
    entry()
