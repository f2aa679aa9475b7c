"""Opening a page in headless Chromium, for the report's tests (marked `browser`, run with `pytest -m browser`).

Two ways: `dump_dom` runs Chromium itself and returns the page's DOM once its scripts have run (no Python
dependency), and `visit` drives it through Playwright, when installed, with Debian's Chromium (`playwright install`
downloads browsers, which a machine without network cannot): every request that is not `file:`, `data:` or `blob:`
is aborted and recorded, page errors and console errors are recorded, and it can take a screenshot and print an A4
landscape PDF. The tests that need one of them skip, with the reason, where it is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

# Chromium's flags for a test: no sandbox (CI runs as root), no GPU, nothing fetched in the background, a fresh profile.
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:")


def chromium() -> str | None:
    """The Chromium to run: `$CHROMIUM`, Debian's /usr/bin/chromium, or `chromium`/`chromium-browser` on the PATH."""
    candidates = [
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK) and Path(c).is_file()), None)


def has_playwright() -> bool:
    return importlib.util.find_spec("playwright") is not None


needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="no Chromium: install Debian's chromium package or set $CHROMIUM to one"
)
needs_playwright = pytest.mark.skipif(
    chromium() is None or not has_playwright(),
    reason="needs Chromium and Playwright: install Debian's chromium package and pip install playwright",
)


def dump_dom(page: Path, *, budget_ms: int = 5000, timeout: float = 120) -> str:
    """The DOM of `page` after its scripts have had `budget_ms` of (virtual) time, as Chromium's `--dump-dom` writes it."""
    executable = chromium()
    assert executable is not None, "no Chromium"
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                executable,
                "--headless",
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    # Debian's wrapper writes harmless noise to stderr (a shell test, dbus): only the exit code and the DOM count.
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@dataclass
class Visit:
    """What happened while a page was open."""

    requests: list[str] = field(default_factory=list)  # network requests, each aborted
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page
    console_errors: list[str] = field(default_factory=list)
    charts_drawn: int = 0  # `.chart svg.marks`
    failed: list[str] = field(default_factory=list)  # the text of every `.chart-failed`
    chart_backgrounds: list[str] = field(default_factory=list)  # each chart's background colour, as drawn
    line_strokes: list[str] = field(default_factory=list)  # the first chart's line colours (after `legend_click`)
    evaluated: object = None  # the value of `evaluate`, once the charts are drawn


def visit(
    page: Path,
    *,
    charts: int,
    color_scheme: Literal["light", "dark"] = "light",
    screenshot: Path | None = None,
    pdf: Path | None = None,
    legend_click: str | None = None,
    evaluate: str | None = None,
    then_scheme: Literal["light", "dark"] | None = None,
    timeout_ms: int = 60_000,
) -> Visit:
    """Open `page` in Playwright's Chromium, wait until `charts` charts are drawn (or have failed), then take the
    screenshot (the whole page) and print the PDF (A4 landscape) asked for. `legend_click` clicks that legend entry
    of the first chart; `evaluate` is a JavaScript expression to evaluate once they are drawn; `then_scheme` switches
    the colour scheme once they are drawn, and waits for them to be drawn again."""
    from playwright.sync_api import sync_playwright

    seen = Visit()
    executable = chromium()
    assert executable is not None, "no Chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(FLAGS))
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900}, color_scheme=color_scheme)

            def route(handled: object) -> None:
                request = handled.request  # type: ignore[attr-defined]
                if request.url.startswith(LOCAL_SCHEMES):
                    handled.continue_()  # type: ignore[attr-defined]
                else:
                    seen.requests.append(request.url)
                    handled.abort()  # type: ignore[attr-defined]

            tab.route("**/*", route)
            tab.on("pageerror", lambda error: seen.page_errors.append(str(error)))
            tab.on("console", lambda message: message.type == "error" and seen.console_errors.append(message.text))
            tab.goto(page.resolve().as_uri())
            tab.wait_for_function(
                "n => document.querySelectorAll('.chart svg.marks').length"
                " + document.querySelectorAll('.chart-failed').length >= n",
                arg=charts,
                timeout=timeout_ms,
            )
            if then_scheme is not None:
                tab.eval_on_selector_all(".chart svg.marks", "svgs => svgs.forEach(svg => svg.classList.add('old'))")
                tab.emulate_media(color_scheme=then_scheme)
                tab.wait_for_function(
                    "n => document.querySelectorAll('.chart svg.marks:not(.old)').length >= n",
                    arg=charts,
                    timeout=timeout_ms,
                )
            if legend_click is not None:
                tab.locator(".chart").first.locator("svg.marks text", has_text=legend_click).first.click()
                tab.wait_for_timeout(300)
            seen.line_strokes = tab.locator(".chart").first.evaluate(
                "div => Array.from(div.querySelectorAll('g.mark-line path')).map(p => p.getAttribute('stroke'))"
            )
            seen.charts_drawn = tab.locator(".chart svg.marks").count()
            if evaluate is not None:
                seen.evaluated = tab.evaluate(evaluate)
            seen.failed = tab.locator(".chart-failed").all_text_contents()
            seen.chart_backgrounds = tab.eval_on_selector_all(
                ".chart svg.marks", "svgs => svgs.map(svg => getComputedStyle(svg).backgroundColor)"
            )
            if screenshot is not None:
                tab.screenshot(path=str(screenshot), full_page=True)
            if pdf is not None:
                tab.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
        finally:
            browser.close()
    return seen
