"""Browser fixtures: the app served on loopback, Debian's Chromium, and page checks.

Every page a journey visits goes through ``Pages.check``: axe-core (no serious or
critical violations), a skip link to the main content, a single h1, no
horizontal scrolling at 320 CSS pixels, no script errors, and a screenshot under
``tests/artifacts/``.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from diversion.config import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE = ROOT / "diversion" / "static" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
DESKTOP = {"width": 1024, "height": 800}
NARROW = 320
REFLOW_TOLERANCE = 2


def _missing(message: str) -> None:
    # `make test` installs the browser and the assets: their absence is a failure.
    pytest.fail(message)


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium, launched once for these tests and closed before any others run."""
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium is not installed at {CHROMIUM}: run `make browser`")
    if not AXE.exists():
        _missing(f"axe-core is missing at {AXE}: run `make assets`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a page and its assets share a connection

    def log_request(self, *args, **kwargs) -> None:
        """Keep the test output free of one access-log line per request."""


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port in a background thread; return its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# The outermost elements that stick out past the right edge: where to look first.
OUTERMOST_WIDE = """(limit) => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > limit &&
               e.parentElement.getBoundingClientRect().right <= limit)
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + "." + [...e.classList].join("."))"""


class Pages:
    """One browser tab for one person, checking every page it lands on."""

    def __init__(self, page, base_url: str, journey: str) -> None:
        self.page = page
        self.base_url = base_url
        self.journey = journey
        self.visited: list[str] = []
        self.script_errors: list[str] = []
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and \
                message.location.get("url") == self.page.url:
            return  # the page itself answered with an error status: the journey checks that
        self.script_errors.append(f"{message.text} ({message.location.get('url')})")

    def goto(self, path: str):
        """Open an address as a person would type it, and check the page."""
        response = self.page.goto(self.base_url + path)
        return response

    def check(self, name: str) -> None:
        """Run every page-level check on the page now shown, then save a screenshot."""
        page = self.page
        page.wait_for_load_state("load")
        where = f"{name} ({page.url})"
        assert page.locator("h1").count() == 1, f"{where}: expected a single h1"
        skip = page.locator("a.govuk-skip-link")
        assert skip.count() == 1, f"{where}: no skip link"
        assert skip.get_attribute("href") == "#main-content", f"{where}: skip link target"
        assert page.locator("main#main-content").count() == 1, f"{where}: no main content"
        self._axe(where)
        self._reflows(where)
        assert not self.script_errors, f"{where}: script errors {self.script_errors}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        number = len(self.visited) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        page.screenshot(path=str(ARTIFACTS / f"{self.journey}-{number:02d}-{slug}.png"),
                        full_page=True)
        self.visited.append(name)

    def _axe(self, where: str) -> None:
        page = self.page
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Loaded from the app's own origin, so the pages keep their real CSP.
            page.add_script_tag(url=self.base_url + "/static/vendor/axe.min.js")
        # GOV.UK Frontend sets aria-expanded on a radio that reveals a question, which
        # ARIA does not list for radios; the Design System keeps it on purpose because
        # screen readers announce it (alphagov/govuk-frontend#979). Only that is let by.
        violations = page.evaluate("""async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            const revealsOnly = n => {
                const element = document.querySelector(n.target.join(" "));
                const named = (n.failureSummary.match(/aria-[a-z]+/g) || []);
                return element !== null
                    && element.matches(".govuk-radios__input[aria-controls]")
                    && named.every(name => name === "aria-expanded");
            };
            return result.violations
                .map(v => v.id === "aria-allowed-attr"
                    ? {...v, nodes: v.nodes.filter(n => !revealsOnly(n))} : v)
                .filter(v => v.nodes.length > 0)
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.impact} ${v.id}: ${v.help} -> ` +
                          v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
        }""")
        assert not violations, f"{where}: axe found\n" + "\n".join(violations)

    def _reflows(self, where: str) -> None:
        page = self.page
        page.set_viewport_size({"width": NARROW, "height": DESKTOP["height"]})
        try:
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > NARROW + REFLOW_TOLERANCE:
                wide = page.evaluate(OUTERMOST_WIDE, NARROW + REFLOW_TOLERANCE)
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{self.journey}-too-wide.png"),
                                full_page=True)
                raise AssertionError(f"{where}: {width}px wide at {NARROW}px, e.g. {wide}")
        finally:
            page.set_viewport_size(DESKTOP)


@pytest.fixture
def open_tab(browser, live_server):
    """Open a fresh browser tab (its own cookies) for one person in one journey."""
    contexts = []

    def open_(journey: str) -> Pages:
        context = browser.new_context(viewport=DESKTOP, accept_downloads=True,
                                      locale="en-GB", timezone_id="Europe/London")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Pages(context.new_page(), live_server, journey)

    yield open_
    for context in contexts:
        context.close()
