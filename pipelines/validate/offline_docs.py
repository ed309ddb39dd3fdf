"""GX Data Docs pages made readable without a network.

GX 1.24 writes its pages with every stylesheet, script, font and its logo from CDNs. Offline (as on a
training cluster, or any machine here) the validation result pages keep their text, but the status
column of each expectation is a Font Awesome icon (empty without its stylesheet) and the logo a broken
image. `make_offline` rewrites the pages in place: links into static/ at the page's real depth (GX
writes them one level short on validation result pages, which sit one folder deeper than it counts),
the logo from static/images, a status icon that shows as text ("✓ passed", "✗ failed") with or
without Font Awesome, and the top bar laid out as Bootstrap would. GX's own index stays empty offline (it builds its tables with scripts), so the
dataset report links the result pages directly (`pipelines.report`).
"""

from __future__ import annotations

import glob
import os
import re

_STATIC = re.compile(r'(href|src)="(?:\./|(?:\.\./)+)static/')
_LOGO = re.compile(r'src="https://[^"]*/logo-long\.png[^"]*"')
# Status icons as text, with selectors more specific than Font Awesome's own (the text shows whether or
# not its stylesheet loads); the two Bootstrap classes the top bar needs to lay the logo and the
# breadcrumbs side by side inside its fixed height (the same rules as Bootstrap's).
OFFLINE_STYLE = (
    '<style id="vrft-offline">'
    'i.fas.fa-check-circle::before{content:"\\2713  passed";font-family:sans-serif;font-style:normal;font-weight:bold}'
    'i.fas.fa-times::before{content:"\\2717  failed";font-family:sans-serif;font-style:normal;font-weight:bold}'
    "i.fas.text-success{color:#1e7b34}i.fas.text-danger{color:#c0392b}"
    ".d-flex{display:flex}.align-items-center{align-items:center}"
    "</style>"
)


def offline_page(text: str, static: str) -> str:
    """One page's HTML with `static` (the page's relative path to the static/ folder) used for its
    static files and logo, and the offline style added once."""
    text = _STATIC.sub(lambda m: f'{m.group(1)}="{static}/', text)
    text = _LOGO.sub(f'src="{static}/images/logo-long.png"', text)
    if 'id="vrft-offline"' not in text:
        text = text.replace("</head>", OFFLINE_STYLE + "</head>", 1)
    return text


def make_offline(docs_dir: str) -> None:
    """Rewrite every page of the Data Docs site under `docs_dir` with `offline_page`."""
    for page in glob.glob(os.path.join(docs_dir, "**", "*.html"), recursive=True):
        static = os.path.relpath(os.path.join(docs_dir, "static"), os.path.dirname(page)).replace(os.sep, "/")
        with open(page, encoding="utf-8") as f:
            text = f.read()
        fixed = offline_page(text, static)
        if fixed != text:
            with open(page, "w", encoding="utf-8") as f:
                f.write(fixed)
