"""A live server and a real browser: the fixtures the browser and relying-party tests share.

Registered once, as a plugin, by tests/conftest.py: the browser is per test session.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import IN_CI


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free loopback port; yields its base URL (the
    issuer, so discovery and tokens name the address the browser uses)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://localhost:{server.server_port}"
    app.config["ISSUER"] = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless; skipped where it or playwright is missing, except
    under CI."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed"
    if missing is None and not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is not installed"
    if missing:
        if IN_CI:
            pytest.fail(f"browser tests need Chromium under CI: {missing}")
        pytest.skip(missing)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
