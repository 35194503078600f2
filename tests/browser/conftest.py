"""Browser tests: the real app over HTTP, driven by Debian's headless Chromium.

- `_session_app` is overridden for this folder: the same database (SQLite, and
  PostgreSQL when configured), SMTP sink, broker folder and queue as every other test,
  plus BASE_URL set to the live server (so the links in emails open in the browser)
  and the dev mail catcher's /dev/mail reading the SMTP sink's folder (so the page
  shows the mail that really went through SMTP).
- `live_server`: that app under werkzeug's threaded server, one per database backend.
- Mail is delivered in-process by the worker's own function (support.deliver_mail), as
  the rest of the suite does: the journeys prove the pages, a worker costs seconds to
  start per test, and tests/test_worker.py proves the real worker.
- `browser`: one Chromium for the folder's tests; `context`/`page`: a fresh context per
  journey, with the pages' real Content-Security-Policy; `axe_page`: one shared tab for
  the audits, cookies cleared per test, bypassing CSP so that axe-core can be injected
  as an inline script.
- On failure, a screenshot and the HTML of every open page go to test-artifacts/browser/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from petitions.extensions import db
from tests.browser.servers import LiveServer
from tests.conftest import _unavailable
from tests.mail.apps import build_extra_app
from tests.support.apps import app_settings, migrate_to_head
from tests.support.environment import PROJECT_ROOT
from tests.support.processes import free_port

CHROMIUM = Path("/usr/bin/chromium")
# Without background networking off, Chromium keeps trying Google's services, and on a
# closed network that is a stream of refused connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE_SCRIPT = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "browser"
ACTION_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def live_port(database_url) -> int:
    """One port per database backend: each backend's app has its own BASE_URL."""
    return free_port()


@pytest.fixture(scope="session")
def _session_app(database_url, smtp_sink, instance_path, celery_queue, live_port):
    settings = app_settings(database_url, smtp_sink, instance_path, celery_queue)
    settings.update(
        BASE_URL=f"http://127.0.0.1:{live_port}",
        MAIL_CATCHER=True,  # registers /dev/mail
        MAIL_CATCHER_DIR=str(smtp_sink.store.folder),
    )
    app = build_extra_app(settings, instance_path)
    migrate_to_head(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(_session_app, live_port):
    server = LiveServer(_session_app, live_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        _unavailable("Chromium", f"{CHROMIUM} is missing: apt-get install chromium "
                                 "(bin/test does, as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright", "pip install playwright (in the test extra)")
    # launch() gives every run a fresh, temporary user-data directory.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _new_context(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser, live_server, app) -> Iterator:
    """Depends on `app`, so that it closes (and its pages stop polling) before the
    tables are emptied."""
    context = _new_context(browser, live_server)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(scope="package")
def axe_tab(browser, live_server):
    """One tab for every audit: a new context costs a new renderer process each time."""
    if not AXE_SCRIPT.exists():
        _unavailable("axe-core", f"{AXE_SCRIPT} is missing: npm ci --prefix tests/browser "
                                 "(bin/test does)")
    context = _new_context(browser, live_server, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def axe_page(axe_tab, app):
    """The audit tab with no cookies from the test before; left blank afterwards, so that
    nothing on it polls while the tables are emptied."""
    axe_tab.context.clear_cookies()
    yield axe_tab
    axe_tab.goto("about:blank")


# --- artefacts on failure -------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        _save_pages(item)
    return report


def _save_pages(item) -> None:
    chromium = item.funcargs.get("browser")
    if chromium is None:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
    pages = [p for context in chromium.contexts for p in context.pages]
    for number, open_page in enumerate(pages):
        name = f"{stem}-{number}"
        try:
            open_page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True,
                                 timeout=5_000)
            (ARTIFACTS / f"{name}.html").write_text(open_page.content(), encoding="utf-8")
        except Exception as exc:  # noqa: BLE001  (a crashed page must not hide the failure)
            (ARTIFACTS / f"{name}.txt").write_text(f"could not save the page: {exc}\n")


@pytest.fixture
def expect(browser):
    """Playwright's web-first assertions (imported here, so that collecting the tests
    needs no Playwright: without it they skip, or fail in CI, in `browser`)."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=ACTION_TIMEOUT_MS)
    return playwright_expect
