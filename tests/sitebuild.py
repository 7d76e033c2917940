"""Fixtures of the site tests (a pytest plugin, loaded by tests/conftest.py): one build of both
languages per test session and a local server.

The build (warnings are errors) goes to a temporary directory, shared by the xdist workers
through a file lock, and reuses the repository's execution cache. Any HTTP(S) request made
from Python during the build goes to a closed local port, so a build that needs the network
fails here instead of passing on a connected machine.
"""

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
NO_NETWORK = {name: "http://127.0.0.1:9"  # the discard port: nothing listens
              for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}


@pytest.fixture(scope="session")
def site(tmp_path_factory, worker_id) -> Path:
    """Build both languages once per test session, whichever worker asks first."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # common to all xdist workers
    root, report = shared / "book-site", shared / "book-site.json"
    with FileLock(str(shared / "book-site.lock")):
        if not report.is_file():
            result = subprocess.run(
                [sys.executable, str(REPO / "scripts" / "build_book.py"), "--quiet",
                 "--out", str(root / "html"), "--doctrees", str(root / "doctrees")],
                check=False, cwd=REPO, capture_output=True, text=True,
                env={**os.environ, **NO_NETWORK, "KERAS_BACKEND": "torch", "no_proxy": "", "NO_PROXY": ""})
            report.write_text(json.dumps({"returncode": result.returncode,
                                          "output": result.stdout + result.stderr}))
    built = json.loads(report.read_text())
    assert built["returncode"] == 0, "book build failed:\n" + built["output"][-6000:]
    return root / "html"


@pytest.fixture(scope="session")
def server(site):
    """Serve the site on a free local port (pages need http:// for MathJax fonts and search)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass
