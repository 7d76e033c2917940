"""Shared test configuration: hypothesis profiles, and a headless browser for the pages the course writes."""

import os
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, settings

# The book site's build and server fixtures (one module, so that no second conftest.py exists: with
# --doctest-modules two modules named conftest clash).
pytest_plugins = ["sitebuild"]

# CI: derandomised (reproducible failures), no per-example deadline (shared 2-core runners).
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# Headless Chromium as the tests use it: no network of its own, a fresh profile per test.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-quic",
                  "--disable-sync", "--disable-dev-shm-usage", "--virtual-time-budget=15000",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]  # offline, whatever the machine


@pytest.fixture
def browser(tmp_path):
    """Return dump_dom(url): the DOM after the page's scripts ran, as BeautifulSoup."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium not found: run `make test` (installs it) or scripts/ensure-debs.sh chromium")

    def dump_dom(url: str) -> BeautifulSoup:
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
            check=False, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        return BeautifulSoup(result.stdout, "html.parser")

    return dump_dom
