"""The quality report: `summary.json` and a self-contained `index.html`.

The page is our own rendering of the GX validation results (GX's Data Docs pull jQuery,
Bootstrap and Vega from CDNs and a logo from S3): inline CSS, no script, no external URL, so it
renders the same on a machine with no network. It shows counts and shares only.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Iterable

from jinja2 import Environment, select_autoescape

from pipeline.quality.result import Outcome, QualityResult

SCHEMA_VERSION = 1

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data quality{% if years %} - {{ years }}{% endif %}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1f3a5f;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}
main{padding:20px 28px;max-width:1300px}
.verdict{font-size:18px;font-weight:600;padding:14px 18px;border-radius:6px;margin-bottom:18px}
.verdict.err{background:#fde2e1;color:#8a1c14;border:1px solid #f3a49d}
.verdict.warn{background:#fff4d6;color:#7a5300;border:1px solid #f0cf73}
.verdict.ok{background:#dff5e3;color:#17622a;border:1px solid #8fd19e}
.cards{display:flex;gap:12px;margin-bottom:20px;flex-wrap:wrap}
.card{background:#fff;border-radius:6px;padding:12px 18px;min-width:150px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:26px}
section{background:#fff;border-radius:6px;margin-bottom:18px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
section h2{font-size:16px;margin:0;padding:12px 16px;border-bottom:1px solid #e3e6ea}
section h2 small{font-weight:normal;color:#5b6472}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{background:#fafbfc;color:#5b6472;font-weight:600}
.st{font-weight:700;white-space:nowrap}
.pass{color:#17622a}.fail-error{color:#b3261e}.fail-warning{color:#946200}
tr.fail-error td{background:#fff5f4}tr.fail-warning td{background:#fffbef}
.sev{display:inline-block;border-radius:3px;padding:0 6px;font-size:11px;text-transform:uppercase}
.sev.error{background:#f3d3d0;color:#8a1c14}.sev.warning{background:#f7e7b4;color:#6b4a00}
code{font-size:12px;color:#3d4756}
.areas{color:#5b6472;font-size:12px}
footer{color:#5b6472;font-size:12px;padding:0 28px 24px}
</style>
</head>
<body>
<header>
<h1>Data-quality report{% if years %} &middot; {{ years }}{% endif %}</h1>
<p>Great Expectations suites of <code>expectations/</code> validated on aggregates computed in the warehouse. Counts and shares only.</p>
</header>
<main>
{% if summary.failed_errors %}
<div class="verdict err" id="verdict">Stopped: {{ summary.failed_errors }} error{{ "s" if summary.failed_errors != 1 }} &mdash; nothing is published until they are fixed.</div>
{% elif summary.failed_warnings %}
<div class="verdict warn" id="verdict">Passed with {{ summary.failed_warnings }} warning{{ "s" if summary.failed_warnings != 1 }}.</div>
{% else %}
<div class="verdict ok" id="verdict">All checks passed.</div>
{% endif %}
<div class="cards">
<div class="card"><b>{{ summary.checks }}</b>checks</div>
<div class="card"><b class="pass">{{ summary.passed }}</b>passed</div>
<div class="card"><b class="fail-error">{{ summary.failed_errors }}</b>errors</div>
<div class="card"><b class="fail-warning">{{ summary.failed_warnings }}</b>warnings</div>
</div>
{% for (suite, year), rows in groups %}
<section>
<h2>{{ suite }}{% if year is not none %} <small>&middot; {{ year }}</small>{% endif %} <small>&middot; {{ rows|selectattr("success")|list|length }}/{{ rows|length }} passed</small></h2>
<table>
<tr><th>status</th><th>severity</th><th>check</th><th>table / column</th><th>rule</th><th>observed</th></tr>
{% for o in rows %}
<tr class="{{ 'pass' if o.success else 'fail-' ~ o.severity }}">
<td class="st {{ 'pass' if o.success else 'fail-' ~ o.severity }}">{{ "pass" if o.success else "FAIL" }}</td>
<td><span class="sev {{ o.severity }}">{{ o.severity }}</span></td>
<td><code>{{ o.check }}</code><br><span class="areas">{{ o.expectation_type }}</span></td>
<td>{{ o.table }}{% if o.column %} / <code>{{ o.column }}</code>{% endif %}{% if o.year is not none %} &middot; {{ o.year }}{% endif %}</td>
<td>{{ o.description }}</td>
<td>{{ o.observed_text() }}{% if o.areas %}<div class="areas">areas: {{ o.areas|join(", ") }}</div>{% endif %}</td>
</tr>
{% endfor %}
</table>
</section>
{% endfor %}
</main>
<footer>boliglister data-quality report &middot; the same results are in summary.json next to this page.</footer>
</body>
</html>
"""


def _atomic_write(path: Path, text: str) -> None:
    # a new file of a unique name, opened exclusively: unlike tempfile.mkstemp (always 0600) it
    # gets the permissions of the umask, like every other published file
    tmp = path.parent / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _merge(results: Iterable[QualityResult]) -> QualityResult:
    merged = QualityResult()
    for r in results:
        merged.extend(r)
    return merged


def summary_dict(results: Iterable[QualityResult]) -> dict:
    merged = _merge(results)
    return {
        "schema_version": SCHEMA_VERSION,
        "has_errors": merged.has_errors,
        "error_line": merged.error_line() or None,
        "summary": merged.summary(),
        "checks": [o.as_dict() for o in merged.outcomes],
    }


def _years(outcomes: list[Outcome]) -> str:
    ys = sorted({o.year for o in outcomes if o.year is not None})
    if not ys:
        return ""
    return str(ys[0]) if len(ys) == 1 else f"{ys[0]}-{ys[-1]}"


def write_quality_report(results: list[QualityResult], out_dir: Path) -> None:
    """Write `out_dir/summary.json` and `out_dir/index.html` (created if needed; replaced atomically)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    merged = _merge(results)
    summary = summary_dict([merged])
    _atomic_write(out_dir / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    groups: "OrderedDict[tuple[str, int | None], list[Outcome]]" = OrderedDict()
    for o in merged.outcomes:
        year = o.year if o.suite in {"bef", "akm", "udda", "ind", "kraf", "adresser"} else None
        groups.setdefault((o.suite, year), []).append(o)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(TEMPLATE).render(
        summary=merged.summary(), groups=list(groups.items()), years=_years(merged.outcomes)
    )
    _atomic_write(out_dir / "index.html", html)
