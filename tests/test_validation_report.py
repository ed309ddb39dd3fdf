"""The validation report as a person opens it without a network: counts, every check, and GX's result
pages linked directly (GX's own index builds its tables with scripts from CDNs), their favicon found."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from pipelines import synthetic_ingested as synthetic


@pytest.fixture(scope="module")
def passed(tmp_path_factory):
    from pipelines.validate import validate_dataset

    root = synthetic.synthetic_dataset(str(tmp_path_factory.mktemp("ds")), n_samples=40, n_videos=10)
    result = validate_dataset(root)
    assert result.success, result.failures
    return result, json.loads((Path(root) / "manifest.json").read_text())


def test_a_passing_report_shows_counts_and_a_table_of_every_check(passed):
    result, manifest = passed
    page = Path(result.report).read_text()
    counts = manifest["counts"]
    assert f"input {counts['input']:,}, written {counts['written']:,}" in page
    assert "rows checked: samples 40" in page
    rows = re.findall(r"<tr><td class=\"ok\">passed</td>", page)
    assert len(rows) == len(result.checks) > 10      # one row per check, each marked passed
    for check in result.checks:
        assert f"<td>{html.escape(check['about'])}</td>" in page


def test_result_pages_are_linked_directly_and_resolve(passed):
    result, _ = passed
    page = Path(result.report).read_text()
    report_dir = Path(result.report_dir)
    links = re.findall(r'<a href="([^"]+)">', page)
    pages = [link for link in links if "/validations/" in link]
    assert len(pages) >= 4   # samples, one per task, one per (task, label type), videos, dataset
    for link in pages:
        target = report_dir / link
        assert target.is_file(), link
        assert "Expectation Validation Result" in target.read_text()
    assert not [link for link in links if link.startswith("http")]   # nothing of ours needs a network


def test_every_gx_page_finds_its_favicon_and_logo_and_shows_each_status_as_text(passed):
    result, _ = passed
    docs = Path(result.docs).parent
    html_pages = list(docs.rglob("*.html"))
    assert any("validations" in p.parts for p in html_pages)
    for p in html_pages:
        text = p.read_text()
        local = re.findall(r'href="([^"]*favicon[^"]*)"', text) + re.findall(r'src="([^"]*logo-long[^"]*)"', text)
        assert len(local) == 2, p   # GX's pages have one of each; both found beside the page, none from the network
        for href in local:
            assert (p.parent / href).resolve().is_file(), (p, href)
        if "fa-check-circle" in text:   # a status icon: Font Awesome's, from a CDN, draws nothing offline
            assert text.count('<style id="vrft-offline">') == 1 and 'content:"\\2713  passed"' in text, p


def test_offline_page_fixes_depth_logo_and_status_once():
    from pipelines.validate.offline_docs import offline_page

    page = ('<html><head><link rel="icon" href="../../../static/images/favicon.ico"></head><body>'
            '<img src="https://example.invalid/assets/logo-long.png?d=1"><i class="fas fa-times text-danger"></i>'
            "</body></html>")
    fixed = offline_page(page, "../../../../static")
    assert 'href="../../../../static/images/favicon.ico"' in fixed
    assert 'src="../../../../static/images/logo-long.png"' in fixed and "https:" not in fixed
    assert 'i.fas.fa-times::before{content:"\\2717  failed"' in fixed
    assert offline_page(fixed, "../../../../static") == fixed   # a second pass changes nothing
