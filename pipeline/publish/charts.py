"""The report's charts as inline SVG (matplotlib, no pyplot global state, deterministic output:
fixed hash salt, no date; no namespace URLs or metadata, so the page references no URL at all)."""

from __future__ import annotations

import io
import re

import matplotlib
import matplotlib.patches
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline.publish.common import Criterion, fmt_num

LIST_COLORS = {
    "transformation": "#67001f",
    "parallel": "#d6604d",
    "vulnerable": "#f4a582",
    "prevention": "#4393c3",
    "combined_letting": "#8073ac",
}
COLOR_NEW = "#1b7837"
COLOR_LEFT = "#b2182b"
COLOR_STAY = "#9e9e9e"
# the order in which an area's "highest" list decides its group in the criteria chart
LIST_RANK = ("transformation", "parallel", "vulnerable", "prevention", "combined_letting")

_RC = {
    "svg.hashsalt": "boliglister",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _plain(text: str) -> str:
    """Text for matplotlib without mathtext interpretation."""
    return text.replace("$", r"\$")


def to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    # scale with the page: keep the viewBox, let CSS set the width
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', svg, count=1)
    return svg.strip()


def _new_figure(w: float, h: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(w, h), layout="constrained")


def criteria_chart(
    rows: list[dict],  # label, group (list key), and one value per criterion column
    main: tuple[Criterion, ...],
    prevention: tuple[Criterion, ...] | None,
    group_labels: dict[str, str],
) -> str:
    """One panel per criterion: a bar per listed area, the threshold as a vertical line
    (solid: the main list; dashed: the prevention list)."""
    n = len(rows)
    with matplotlib.rc_context(_RC):
        # fixed margins in inches (constrained layout is slow with hundreds of tick labels)
        width, top, bottom = 14.0, 1.05, 0.85
        height = top + bottom + 0.26 * n
        left = 0.4 + 0.075 * max(len(r["label"]) for r in rows)
        fig = Figure(figsize=(width, height))
        axes = fig.subplots(1, len(main))
        fig.subplots_adjust(left=left / width, right=1 - 0.15 / width, top=1 - top / height,
                            bottom=bottom / height, wspace=0.22)
        ys = list(range(n))[::-1]
        for ax, crit in zip(axes, main, strict=True):
            scale = 100.0 if crit.kind == "pct" else 1.0
            vals = [r.get(crit.column) for r in rows]
            present = [(y, v * scale, LIST_COLORS[r["group"]])
                       for y, v, r in zip(ys, vals, rows, strict=True) if v is not None]
            if present:
                # one collection of rectangles per panel: a bar per area as its own patch made
                # this chart take seconds with a national list of hundreds of areas
                ax.add_collection(PolyCollection(
                    [[(0, y - 0.35), (v, y - 0.35), (v, y + 0.35), (0, y + 0.35)] for y, v, _ in present],
                    facecolors=[c for _, _, c in present], edgecolors="none", linewidths=0,
                ))  # fmt: skip
            thresholds = [(crit.value * scale, "-", "#000000")]
            title = f"tærskel {crit.short_text()}"
            if prevention is not None:
                pc = next(c for c in prevention if c.key == crit.key)
                if pc.value != crit.value:
                    thresholds.append((pc.value * scale, "--", LIST_COLORS["prevention"]))
                    title += f"\nforebyggelse {pc.short_text()}"
                else:
                    title += "\n(også forebyggelse)"
            for x, ls, col in thresholds:
                ax.axvline(x, color=col, linestyle=ls, linewidth=1.4)
            top = max([v * scale for v in vals if v is not None] + [t[0] for t in thresholds])
            ax.set_xlim(0, top * 1.12)
            ax.set_title(_plain(_wrap(crit.heading, 24) + "\n" + title), fontsize=9, loc="left")
            ax.xaxis.set_major_locator(MaxNLocator(4))
            if crit.kind == "pct":
                ax.xaxis.set_major_formatter(lambda x, _pos: f"{fmt_num(x, 0)} %")
            else:
                ax.xaxis.set_major_formatter(lambda x, _pos: f"{fmt_num(x, 1)}×")
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
            ax.set_axisbelow(True)
            ax.tick_params(axis="y", length=0)
            ax.set_yticks([])
            ax.set_ylim(-0.7, n - 0.3)
        axes[0].set_yticks(ys, [_plain(r["label"]) for r in rows])
        groups = [g for g in LIST_RANK if any(r["group"] == g for r in rows)]
        handles = [matplotlib.patches.Patch(color=LIST_COLORS[g], label=group_labels[g]) for g in groups]
        fig.legend(handles=handles, loc="lower center", ncols=len(handles), frameon=False,
                   bbox_to_anchor=(0.5, 0.05 / height))
        return to_svg(fig)


def counts_chart(series: dict[str, list[tuple[int, int]]], labels: dict[str, str]) -> str:
    """Number of areas on each list per list year."""
    with matplotlib.rc_context(_RC):
        fig = _new_figure(10, 3.6)
        ax = fig.subplots()
        years = sorted({y for pts in series.values() for y, _ in pts})
        for key, pts in series.items():
            xs = [y for y, _ in pts]
            ns = [n for _, n in pts]
            ax.plot(xs, ns, marker="o", color=LIST_COLORS.get(key, "#333333"), label=_plain(labels.get(key, key)),
                    linewidth=2)
            for x, n in pts:
                ax.annotate(str(n), (x, n), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        ax.set_xticks(years, [str(y) for y in years])
        if len(years) == 1:
            ax.set_xlim(years[0] - 1, years[0] + 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0, top=max([n for pts in series.values() for _, n in pts] + [1]) * 1.15)
        ax.set_ylabel("Antal områder")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        fig.legend(loc="outside right upper", frameon=False)
        return to_svg(fig)


def movements_chart(moves: list[tuple[str, str, int, int, int]]) -> str:
    """Per list (key, label, continuing, new, left): continuing and new stacked above zero,
    areas that left below zero."""
    with matplotlib.rc_context(_RC):
        fig = _new_figure(10, 3.6)
        ax = fig.subplots()
        xs = list(range(len(moves)))
        stay = [m[2] for m in moves]
        new = [m[3] for m in moves]
        left = [-m[4] for m in moves]
        ax.bar(xs, stay, color=COLOR_STAY, label="Fortsat på listen", width=0.6)
        ax.bar(xs, new, bottom=stay, color=COLOR_NEW, label="Ny på listen", width=0.6)
        ax.bar(xs, left, color=COLOR_LEFT, label="Udgået siden sidste år", width=0.6)
        for x, s, nw, lf in zip(xs, stay, new, left, strict=True):
            if nw:
                ax.annotate(f"+{nw}", (x, s + nw), textcoords="offset points", xytext=(0, 3), ha="center",
                            fontsize=9, color=COLOR_NEW)
            if lf:
                ax.annotate(f"−{-lf}", (x, lf), textcoords="offset points", xytext=(0, -12), ha="center",
                            fontsize=9, color=COLOR_LEFT)
        ax.axhline(0, color="#000000", linewidth=0.8)
        ax.set_xticks(xs, [_plain(_wrap(m[1], 18)) for m in moves])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        lo = min(left + [0])
        hi = max([s + n for s, n in zip(stay, new, strict=True)] + [1])
        ax.set_ylim(lo * 1.3 - 0.5, hi * 1.15)
        ax.yaxis.set_major_formatter(lambda y, _pos: str(abs(int(y))))
        ax.set_ylabel("Antal områder")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        fig.legend(loc="outside right upper", frameon=False)
        return to_svg(fig)


def _wrap(text: str, width: int) -> str:
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    out.append(line)
    return "\n".join(out)
