"""What every browser test shares: Debian's chromium, its flags and where screenshots go.

A browser test module loads this as a plugin and marks itself (the PostgreSQL pass runs
`-m "not browser"`):

    pytest_plugins = ["tests.browser"]
    pytestmark = pytest.mark.browser

which gives it the fixtures `browser` (skipping the test where chromium or Playwright is
missing), `screenshots` and `allow_orm_beside_playwright`. This is not a tests/conftest.py: beside
the root conftest.py it would take over the tests' `from conftest import …`.
"""

import os
from pathlib import Path

import pytest

ROOT_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def screenshot_folder() -> Path:
    """docs/screenshots when PINGYI_SCREENSHOTS says so (make screenshots), else test-artifacts."""
    folder = Path(os.environ.get("PINGYI_SCREENSHOTS") or "test-artifacts/screenshots")
    folder = folder if folder.is_absolute() else ROOT_DIR / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; the ORM is still safe here."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture
def screenshots() -> Path:
    return screenshot_folder()


@pytest.fixture
def browser(allow_orm_beside_playwright):
    """Debian's chromium under Playwright, with the flags above.

    Every page it opens is watched for Content-Security-Policy violations (chromium logs them
    to the console): a test whose pages broke the policy fails when it ends.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make browser-deps)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        violations = _watch_csp(chromium)
        yield chromium
        chromium.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def _watch_csp(chromium) -> list[str]:
    """Record, from every page of every context the browser opens, the console messages that
    report a Content-Security-Policy violation (with the page's address)."""
    violations: list[str] = []

    def watch_page(page) -> None:
        def on_console(message) -> None:
            if "Content Security Policy" in message.text:
                violations.append(f"{page.url}: {message.text}")

        page.on("console", on_console)

    def watch_context(context):
        context.on("page", watch_page)
        return context

    new_context = chromium.new_context
    chromium.new_context = lambda *args, **kwargs: watch_context(new_context(*args, **kwargs))
    # Browser.new_page makes its own context, which the wrapper above does not see.
    new_page = chromium.new_page

    def watched_new_page(*args, **kwargs):
        page = new_page(*args, **kwargs)
        watch_page(page)
        return page

    chromium.new_page = watched_new_page
    return violations
