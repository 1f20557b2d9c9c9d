"""Open the report in headless Chromium: no JavaScript errors, every chart drawn, a screenshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _playwright() -> object | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return sync_playwright


def test_report_renders_in_chromium(mirror_html: Path, tmp_path: Path) -> None:
    sync_playwright = _playwright()
    if CHROMIUM is None or sync_playwright is None:
        if os.environ.get("SMALLCAPS_REQUIRE_BROWSER"):  # CI installs one: never skip there
            pytest.fail(f"SMALLCAPS_REQUIRE_BROWSER is set but chromium={CHROMIUM!r}")
        pytest.skip(
            "no headless browser here: needs Debian's chromium on PATH and the playwright "
            f"package (chromium: {CHROMIUM}, playwright: {sync_playwright is not None})"
        )
    errors: list[str] = []
    with sync_playwright() as p:  # type: ignore[operator]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(mirror_html.as_uri(), wait_until="load")
            # every chart drawn (the page sets this when the last one is); how fast belongs in
            # a bench: a wall-clock assertion fails on a loaded machine for nothing
            page.wait_for_selector("body[data-charts=done]", timeout=60_000)
            charts = page.eval_on_selector_all("div.chart", "ds => ds.map(d => d.id)")
            empty = page.eval_on_selector_all(
                "div.chart", "ds => ds.filter(d => !d.querySelector('svg.main-svg')).map(d => d.id)"
            )
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert len(charts) >= 10 and empty == []
    assert shot.stat().st_size > 100_000
