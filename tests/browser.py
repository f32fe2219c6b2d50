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
    """Debian's chromium under Playwright, with the flags above."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make browser-deps)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
