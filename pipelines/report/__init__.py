"""The dataset report: plots a person would rather look at than read, beside the GX Data Docs.

`write_dataset_report` renders one PNG per registered figure (`plots`) that applies to the dataset and an
index.html with the verdict, the counts, every check (failures first, with the column and rows), the
notes, the plots, and links to GX's validation result pages and summary.json. It works offline: GX's
own index fills its tables with scripts from CDNs (empty without a network), so the result pages, whose
content is written into the HTML, are linked from here directly.
"""

from __future__ import annotations

import glob
import html
import os
from typing import Any, Mapping, Sequence

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
        status = '<td class="ok">passed</td>' if c["success"] else '<td class="bad">FAILED</td>'
        out.append(
            f"<tr>{status}<td>{html.escape(c['table'])}</td><td><code>{html.escape(c['column'])}</code></td>"
            f"<td>{html.escape(c['about'])}</td><td>{c['rows']:,}</td><td>{c['failing']:,}</td>"
            f"<td><code>{html.escape(ids)}</code></td></tr>"
        )
    return "\n".join(out)


def _counts(manifest: Mapping[str, Any] | None, checks: Sequence[Mapping[str, Any]]) -> str:
    """The ingestion's record counts and the rows the checks read, per table."""
    parts = []
    counts = (manifest or {}).get("counts") or {}
    if counts:
        parts.append(", ".join(f"{k} {int(v):,}" for k, v in counts.items() if isinstance(v, (int, float))) + " records")
    read: dict[str, int] = {}
    for c in checks:
        read[c["table"]] = max(read.get(c["table"], 0), int(c["rows"]))
    if read:
        parts.append("rows checked: " + ", ".join(f"{t} {n:,}" for t, n in read.items()))
    return "".join(f"<p>{html.escape(p)}</p>" for p in parts)


def result_pages(docs: str) -> list[tuple[str, str]]:
    """(label, path relative to the docs folder) of every GX validation result page, in name order."""
    if not docs:
        return []
    root = os.path.dirname(docs)
    pages = sorted(glob.glob(os.path.join(root, "validations", "**", "*.html"), recursive=True))
    out = []
    for page in pages:
        rel = os.path.relpath(page, root)
        suite_and_run = os.path.dirname(os.path.dirname(os.path.relpath(page, os.path.join(root, "validations"))))
        out.append((suite_and_run.replace(os.sep, " / "), rel))
    return out


def write_dataset_report(profile: DatasetProfile, manifest: Mapping[str, Any] | None, result: Any) -> str:
    """Write the PNGs and index.html into `result.report_dir`; returns the index path."""
    out_dir = result.report_dir
    figures = render_figures(profile, manifest, out_dir)
    failures = [c for c in result.checks if not c["success"]]
    verdict = (
        f'<p class="ok verdict">PASSED: {len(result.checks)} checks</p>' if result.success
        else f'<p class="bad verdict">FAILED: {len(failures)} of {len(result.checks)} checks</p>'
    )
    table = (
        "<h2>Checks</h2><table><tr><th>status</th><th>table</th><th>column</th><th>expectation</th>"
        f"<th>rows checked</th><th>failing rows</th><th>examples (key)</th></tr>{_rows(result.checks)}</table>"
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    docs = os.path.relpath(result.docs, out_dir) if result.docs else ""
    pages = [(label, os.path.join(os.path.dirname(docs), rel)) for label, rel in result_pages(result.docs)]
    links = "".join(f'<li><a href="{html.escape(href)}">{html.escape(label)}</a></li>' for label, href in pages)
    imgs = "\n".join(f'<h2>{html.escape(t)}</h2><img src="{f}" alt="{html.escape(t)}">' for t, f in figures)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>vrft dataset report: {html.escape(result.root)}</title>
<style>body{{font-family:sans-serif;max-width:1500px;margin:2em auto;padding:0 1em;color:#222}} img{{max-width:100%}}
.ok{{color:#1e7b34}} .bad{{color:#c0392b}} .verdict{{font-size:1.4em}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style>
</head><body>
<h1>Dataset report: {html.escape(os.path.basename(result.root) or result.root)}</h1>
{verdict}
{_counts(manifest, result.checks)}
<p><a href="summary.json">summary.json</a> · Great Expectations' results per chunk (readable offline):</p>
<ul>{links}</ul>
<p>(GX's own <a href="{html.escape(docs)}">Data Docs index</a> loads its tables from the network.)</p>
{table}
{"<h2>Notes</h2><ul>" + notes + "</ul>" if notes else ""}
{imgs}
</body></html>
"""
    return storage.write_text(os.path.join(out_dir, INDEX), page)
