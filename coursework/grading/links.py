"""Links from feedback to the section of the book that treats a task or a misconception.

A link is ``<base>/<language>/<page>.html#<label>``: the page comes from the chapter
registry, the chapter from the MyST label itself (``ch04-batched`` is chapter 4's), so a
link always lands on the page in the student's language.

The base URL is a course setting, looked up in this order:

1. the environment variable ``LOSSFNS_BOOK_URL``;
2. ``html.baseurl`` in the book's ``_config.yml`` (Jupyter Book's own setting for the
   address of the published site);
3. the book built on this computer (``make book``): ``file://<course>/_build/html``, which
   works offline.
"""

from __future__ import annotations

import functools
import os
import re

from ..chapters import CHAPTERS, LANGUAGES, ROOT

URL_VARIABLE = "LOSSFNS_BOOK_URL"
CONFIG = ROOT / "_config.yml"
LOCAL_BUILD = ROOT / "_build" / "html"
LABEL = re.compile(r"ch0*(\d+)(?:-[\w-]+)?")


def book_url() -> str:
    """The base URL of the book (see the module docstring), without a trailing slash."""
    url = os.environ.get(URL_VARIABLE) or _configured_url() or LOCAL_BUILD.as_uri()
    return url.rstrip("/")


@functools.cache
def _configured_url() -> str | None:
    """``html.baseurl`` of _config.yml, if set (None when the file or yaml is missing)."""
    try:
        import yaml

        config = yaml.safe_load(CONFIG.read_text(encoding="utf-8")) or {}
    except (ImportError, OSError, ValueError):
        return None
    url = (config.get("html") or {}).get("baseurl") if isinstance(config, dict) else None
    return str(url) if url else None


def page_of(label: str) -> str:
    """The book page (file name without suffix) of a label such as ``ch02-likelihood`` or ``ch02``.

    Raises:
        ValueError: the label does not start with a chapter (``ch<number>``) of the registry.
    """
    match = LABEL.fullmatch(label)
    chapter = next((c for c in CHAPTERS if match and c.number == int(match.group(1))), None)
    if chapter is None:
        raise ValueError(f"expected a label of the form ch<chapter number>-<name> of a registered chapter, "
                         f"got {label!r}")
    return chapter.page


def section_url(label: str, language: str) -> str:
    """The URL of the section ``label`` of the book, in ``language``."""
    if language not in LANGUAGES:
        raise ValueError(f"expected a language in {LANGUAGES}, got {language!r}")
    return f"{book_url()}/{language}/{page_of(label)}.html#{label}"
