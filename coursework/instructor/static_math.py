"""Feedback pages that show their formulas on their own: math typeset in advance, no scripts.

A feedback page as nbgrader writes it loads MathJax from feedback/_static (see
``offline_math``); uploaded alone to an LMS it loses that folder and shows LaTeX
source. For the LMS packages each page is made self-contained instead: the
course's own MathJax (the book's copy, its SVG output) typesets the page once,
here, in headless Chromium, and the page keeps the result (SVG paths, plus the
MathML MathJax adds for screen readers) and no script at all. It then reads the
same in a browser offline, in an LMS's file preview, and in a mail client.

Pages are typeset in batches, one Chromium run per batch, each page in its own
element with the equation numbering reset. A student's text is part of the page,
so before typesetting everything that could run (scripts, event handlers,
``javascript:`` links, frames, embedded objects) is removed: nothing in one
student's page can touch another's in the batch, or run when the page is opened.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup

from .offline_math import mathjax_source

BATCH = 40  # pages per Chromium run: one start-up (about a second) amortised, a DOM of a few MB
DANGEROUS_ELEMENTS = ("script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link",
                      "meta", "style", "form", "set", "animate", "animatetransform", "animatemotion",
                      "handler")
URL_ATTRIBUTES = ("href", "src", "xlink:href", "action", "formaction", "background", "poster", "data")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage",
                  "--allow-file-access-from-files", "--virtual-time-budget=60000",
                  "--host-resolver-rules=MAP * ~NOTFOUND")  # offline, whatever the machine
MATHJAX_CONFIG = {  # the course template's TeX settings (jupyter/.../mathjax.html.j2), SVG output
    "tex": {"inlineMath": [["$", "$"], ["\\(", "\\)"]], "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
            "processEscapes": True, "processEnvironments": True, "tags": "ams"},
    "options": {"ignoreHtmlClass": "tex2jax_ignore", "processHtmlClass": "tex2jax_process"},
    "svg": {"fontCache": "local"},
    "startup": {"typeset": False},
}


class TypesetError(RuntimeError):
    """Chromium is missing or did not finish typesetting."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        raise TypesetError("expected Chromium to typeset the feedback pages for the LMS, found none: "
                           "sudo apt-get install chromium (or scripts/ensure-debs.sh chromium as root)")
    return found


def self_contained(pages: list[str]) -> list[str]:
    """The HTML of each feedback page, with its formulas typeset and nothing that runs."""
    results = []
    for start in range(0, len(pages), BATCH):
        results += _typeset_batch(pages[start:start + BATCH])
    return results


def sanitize(html: str) -> str:
    """``html`` without anything that could run: scripts, frames, objects, handlers, javascript: URLs."""
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(DANGEROUS_ELEMENTS):
        element.decompose()
    for element in soup.find_all(True):
        for name in list(element.attrs):
            value = element.attrs[name]
            text = "".join(value if isinstance(value, list) else [str(value)])
            squeezed = re.sub(r"[\s\x00-\x1f]+", "", text).lower()
            if (name.lower().startswith("on") or name.lower() == "srcdoc"
                    or (name.lower() in URL_ATTRIBUTES and squeezed.startswith(("javascript:", "vbscript:",
                                                                                 "data:text/html")))):
                del element.attrs[name]
    return str(soup)


def split_page(html: str) -> tuple[str, str, str]:
    """``(before the body, the body's content, after it)``; nbgrader's pages nest a second <body>."""
    start = re.search(r"<body[^>]*>", html, re.IGNORECASE)
    end = html.lower().rfind("</body>")
    if start is None or end < start.end():
        raise ValueError("expected an HTML page with a <body>, got none")
    return html[:start.end()], html[start.end():end], html[end:]


def _typeset_batch(pages: list[str]) -> list[str]:
    nonce = secrets.token_hex(8)
    parts = [split_page(page) for page in pages]
    bodies = [sanitize(body) for _, body, _ in parts]
    with tempfile.TemporaryDirectory(prefix="typeset-") as folder:
        renderer = Path(folder) / "typeset.html"
        renderer.write_text(_renderer(bodies, nonce), encoding="utf-8")
        result = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={Path(folder) / 'profile'}",
                                 "--dump-dom", renderer.as_uri()],
                                capture_output=True, text=True, timeout=600, check=False)
    dom = result.stdout
    if f'data-done="{nonce}"' not in dom:
        if len(pages) > 1:  # too much for one run: halve it
            half = len(pages) // 2
            return _typeset_batch(pages[:half]) + _typeset_batch(pages[half:])
        raise TypesetError(f"Chromium did not finish typesetting a feedback page: {result.stderr[-1000:]}")
    styles = _between(dom, f'<style id="styles-{nonce}">', "</style>")
    typeset = []
    for index, (head, _, tail) in enumerate(parts):
        body = _between(dom, f"<!--page-{nonce}-{index}-->", f"<!--/page-{nonce}-{index}-->")
        head = sanitize_head(head).replace("</head>", f"<style>{styles}</style>\n</head>", 1)
        typeset.append(head + body + tail)
    return typeset


def sanitize_head(head: str) -> str:
    """The page's head without its scripts (nbgrader's CSS stays)."""
    return re.sub(r"<script\b.*?</script>", "", head, flags=re.IGNORECASE | re.DOTALL)


def _between(text: str, start: str, end: str) -> str:
    at = text.index(start) + len(start)
    return text[at:text.index(end, at)]


def _renderer(bodies: list[str], nonce: str) -> str:
    """A page that typesets every body in its own element and marks where each result is."""
    script = (mathjax_source() / "tex-svg.js").as_uri()
    data = json.dumps(bodies).replace("</", "<\\/")
    config = json.dumps(MATHJAX_CONFIG)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.PAGES = {data}; window.NONCE = "{nonce}";</script>
<script>
window.MathJax = {config};
window.MathJax.startup.ready = function () {{
  MathJax.startup.defaultReady();
  MathJax.startup.promise.then(async function () {{
    const out = document.getElementById("out");
    for (let i = 0; i < PAGES.length; i++) {{
      const page = document.createElement("div");
      page.innerHTML = PAGES[i];
      out.appendChild(document.createComment("page-" + NONCE + "-" + i));
      out.appendChild(page);
      out.appendChild(document.createComment("/page-" + NONCE + "-" + i));
      MathJax.texReset();
      await MathJax.typesetPromise([page]);
      page.outerHTML = page.innerHTML;
    }}
    const styles = document.createElement("style");
    styles.id = "styles-" + NONCE;
    styles.textContent = (document.getElementById("MJX-SVG-styles") || {{textContent: ""}}).textContent;
    document.body.appendChild(styles);
    document.body.setAttribute("data-done", NONCE);
  }});
}};
</script>
<script src="{script}" async></script></head><body><div id="out"></div></body></html>
"""
