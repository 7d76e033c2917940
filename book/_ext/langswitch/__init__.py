"""Language switcher for the two builds of the book (book/es -> html/es, book/en -> html/en).

On every page: a visible link to the same page in the other language, placed in the
article header, and ``<link rel="alternate" hreflang=...>`` for every language (plus
``x-default`` pointing at the root language chooser). Both builds share one conf.py and
differ only in ``-D language=<lang>``; this extension also applies the per-language settings
of ``course_language_overrides`` (title, author) and puts the theme texts Jupyter Book
hard-codes in English in the page's language.

A page that exists in one language only is a build warning (an error under ``-W``), so the
switch never points to a missing page.
"""

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent

# Texts this extension puts on a page (switcher, theme strings), in the page's language.
UI = {
    "es": {"name": "Español", "switch_title": "Leer esta página en inglés", "aria": "Cambiar idioma",
           "search": "Buscar en el libro…",
           "code_show": "Mostrar código", "code_hide": "Ocultar código",
           "hint_show": "Clic para mostrar", "hint_hide": "Clic para ocultar"},
    "en": {"name": "English", "switch_title": "Read this page in Spanish", "aria": "Change language",
           "search": "Search this book…",
           "code_show": "Show code", "code_hide": "Hide code",
           "hint_show": "Click to show", "hint_hide": "Click to hide"},
}
JB_ENGLISH_SEARCH_TEXT = "Search this book..."


def _configure_language(app: Sphinx, config: Config) -> None:
    lang = config.language
    languages = list(config.course_languages)
    if lang not in languages:
        raise ValueError(f"langswitch: expected language in {languages} (-D language=...), got {lang!r}")
    ui = UI[lang]
    # Per-language values of ordinary settings (title, author, ...), from _config.yml.
    for key, value in config.course_language_overrides.get(lang, {}).items():
        setattr(config, key, value)
    theme = config.html_theme_options
    # Jupyter Book sets an English search placeholder for every language.
    if theme.get("search_bar_text") in (None, JB_ENGLISH_SEARCH_TEXT):
        theme["search_bar_text"] = ui["search"]
    header_end = list(theme.get("article_header_end", ["article-header-buttons.html"]))
    if "langswitch.html" not in header_end:
        theme["article_header_end"] = ["langswitch.html", *header_end]
    config.templates_path = [*config.templates_path, str(HERE / "templates")]
    config.html_static_path = [*config.html_static_path, str(HERE / "static")]
    config.nb_code_prompt_show = ui["code_show"]
    config.nb_code_prompt_hide = ui["code_hide"]
    config.togglebutton_hint = ui["hint_show"]
    config.togglebutton_hint_hide = ui["hint_hide"]


def _site_root(pagename: str) -> str:
    """Relative URL from a page to the site root (the directory holding es/ and en/)."""
    return "../" * (pagename.count("/") + 1)


def _check_parity(app: Sphinx, env, docnames) -> None:
    """Warn for each page that has no counterpart in the other languages."""
    srcdir = Path(app.srcdir)
    for other in app.config.course_languages:
        if other == app.config.language:
            continue
        other_dir = srcdir.parent / other
        for docname in sorted(env.found_docs):
            if not any(other_dir.joinpath(docname + suffix).is_file() for suffix in app.config.source_suffix):
                logger.warning("langswitch: page %r has no %r counterpart (expected %s)",
                               docname, other, other_dir / (docname + ".md"), location=docname)


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    lang = app.config.language
    root = _site_root(pagename)
    languages = list(app.config.course_languages)
    others = [code for code in languages if code != lang]
    context["langswitch_links"] = [
        {"code": code, "name": UI[code]["name"], "href": f"{root}{code}/{pagename}.html",
         "title": UI[lang]["switch_title"]}
        for code in others
    ]
    context["langswitch_aria"] = UI[lang]["aria"]
    alternates = "".join(
        f'\n    <link rel="alternate" hreflang="{code}" href="{root}{code}/{pagename}.html" />'
        for code in languages
    )
    alternates += f'\n    <link rel="alternate" hreflang="x-default" href="{root}index.html" />\n'
    context["metatags"] = context.get("metatags", "") + alternates


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_languages", ["es", "en"], "env", list)
    app.add_config_value("course_language_overrides", {}, "env", dict)
    # After the theme and myst-nb have registered their own config-inited handlers.
    app.connect("config-inited", _configure_language, priority=800)
    app.connect("env-before-read-docs", _check_parity)
    app.connect("html-page-context", _page_context)
    app.add_css_file("langswitch.css")
    app.add_js_file("langswitch.js")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
