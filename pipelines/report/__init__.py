"""The dataset report: plots a person would rather look at than read, beside the GX Data Docs.

`write_dataset_report` renders one PNG per registered figure (`plots`) that applies to the dataset and an
index.html with the verdict, the failing checks (column, rows), the notes, the plots and links to
the Data Docs and summary.json.
"""

from __future__ import annotations

import html
import os
from typing import Any, Mapping

from pipelines import storage
from pipelines.report.plots import figures
from pipelines.report.profile import DatasetProfile

INDEX = "index.html"


def render_figures(profile: DatasetProfile, manifest: Mapping[str, Any] | None, out_dir: str) -> list[tuple[str, str]]:
    """(title, file name) of every PNG written."""
    import matplotlib  # about a second to import: loaded when figures are drawn, not with this package

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, figure in figures():
        fig = figure.make(profile, manifest)
        if fig is None:
            continue
        fig.tight_layout()
        path = os.path.join(out_dir, f"{name}.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append((figure.title, os.path.basename(path)))
    return written


def _rows(checks: list[dict[str, Any]]) -> str:
    out = []
    for c in checks:
        ids = ", ".join(str(x) for x in c["examples"][:10]) + (" ..." if c["failing"] > 10 else "")
        out.append(
            f"<tr><td>{html.escape(c['table'])}</td><td><code>{html.escape(c['column'])}</code></td>"
            f"<td>{html.escape(c['about'])}</td><td>{c['failing']:,} / {c['rows']:,}</td>"
            f"<td><code>{html.escape(ids)}</code></td></tr>"
        )
    return "\n".join(out)


def write_dataset_report(profile: DatasetProfile, manifest: Mapping[str, Any] | None, result: Any) -> str:
    """Write the PNGs and index.html into `result.report_dir`; returns the index path."""
    out_dir = result.report_dir
    figures = render_figures(profile, manifest, out_dir)
    failures = [c for c in result.checks if not c["success"]]
    verdict = (
        f'<p class="ok">PASSED: {len(result.checks)} checks</p>' if result.success
        else f'<p class="bad">FAILED: {len(failures)} of {len(result.checks)} checks</p>'
    )
    table = (
        "<h2>Failing checks</h2><table><tr><th>table</th><th>column</th><th>expectation</th>"
        f"<th>failing rows</th><th>examples (key)</th></tr>{_rows(failures)}</table>" if failures else ""
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    docs = os.path.relpath(result.docs, out_dir) if result.docs else ""
    imgs = "\n".join(f'<h2>{html.escape(t)}</h2><img src="{f}" alt="{html.escape(t)}">' for t, f in figures)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>vrft dataset report: {html.escape(result.root)}</title>
<style>body{{font-family:sans-serif;max-width:1500px;margin:2em auto;color:#222}} img{{max-width:100%}}
.ok{{color:#1e7b34;font-size:1.4em}} .bad{{color:#c0392b;font-size:1.4em}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style>
</head><body>
<h1>Dataset report: {html.escape(os.path.basename(result.root) or result.root)}</h1>
{verdict}
<p><a href="{html.escape(docs)}">Great Expectations Data Docs</a> (every check, every chunk) ·
<a href="summary.json">summary.json</a></p>
{table}
{"<h2>Notes</h2><ul>" + notes + "</ul>" if notes else ""}
{imgs}
</body></html>
"""
    return storage.write_text(os.path.join(out_dir, INDEX), page)
