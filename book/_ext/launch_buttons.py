"""Launch buttons on the chapter pages: JupyterHub (an nbgitpuller link), Binder, Colab. Off by default.

They open the chapter's generated notebook (chapter_notebook.py), which is not in the source
repository: it is published with the site, at ``<site>/<lang>/_sources/<page>.ipynb``. So the
buttons point at the branch the built site is published to (``branch``, e.g. ``gh-pages``,
with the site at ``site_path`` inside it). Settings, in _config.yml under
``sphinx.config.course_launch_buttons``::

    repository_url   https://github.com/<owner>/<repo>; empty = no buttons (the default)
    branch           the branch holding the published site (default gh-pages)
    site_path        folder of the site inside that branch (default: its root)
    package_branch   branch of repository_url whose lossfns the notebook installs where it is missing
    jupyterhub_url   e.g. https://hub.example.edu -> <hub>/hub/user-redirect/git-pull?repo=...
    binderhub_url    e.g. https://mybinder.org    -> <binder>/v2/gh/<owner>/<repo>/<branch>?urlpath=...
    colab_url        e.g. https://colab.research.google.com -> <colab>/github/<owner>/<repo>/blob/...
    interface        lab (JupyterLab, default) or notebook (Jupyter Notebook)

With any button on, the notebook starts with a cell that installs the course package (from
``package_branch``) when the kernel lacks it, as on Colab or on a Binder built from the site
branch; where ``lossfns`` is installed the cell does nothing. The buttons are plain links
(the theme's own launch buttons would open the page's .md source, which Colab cannot read,
and thebe would load remote JavaScript).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import nbformat
from chapter_notebook import NOTEBOOK_DIR, chapter_of
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

DEFAULTS = {
    "repository_url": "", "branch": "gh-pages", "site_path": "", "package_branch": "main",
    "jupyterhub_url": "", "binderhub_url": "", "colab_url": "", "interface": "lab",
}
SERVICES = {"jupyterhub_url": "JupyterHub", "binderhub_url": "Binder", "colab_url": "Colab"}
ICONS = {"JupyterHub": "_static/images/logo_jupyterhub.svg", "Binder": "_static/images/logo_binder.svg",
         "Colab": "_static/images/logo_colab.png"}  # shipped with sphinx-book-theme
INTERFACES = {"lab": "lab/tree", "notebook": "tree"}
GITHUB = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$")
TEXT = {
    "es": {"group": "Abrir este capítulo como cuaderno ejecutable", "button": "Abrir en {service}",
           "install": "Colab, Binder o un entorno sin el paquete del curso: lo instala una vez "
                      "(en el entorno del curso no hace nada)."},
    "en": {"group": "Open this chapter as a runnable notebook", "button": "Launch on {service}",
           "install": "Colab, Binder or an environment without the course package: installs it once "
                      "(in the course environment it does nothing)."},
}


@dataclass(frozen=True)
class LaunchSettings:
    repository_url: str
    owner: str
    repo: str
    branch: str
    site_path: str
    package_branch: str
    services: dict[str, str]  # "Binder" -> https://mybinder.org, in SERVICES order
    interface: str


def launch_settings(options: dict) -> LaunchSettings | None:
    """The checked settings, or None when the buttons are off. ValueError for a bad combination."""
    options = options or {}
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"course_launch_buttons: expected keys among {', '.join(DEFAULTS)}, "
                         f"got {', '.join(unknown)}")
    settings = {**DEFAULTS, **{k: ("" if v is None else str(v).strip()) for k, v in options.items()}}
    services = {name: settings[key].rstrip("/") for key, name in SERVICES.items() if settings[key]}
    repository = settings["repository_url"].rstrip("/")
    if not repository:
        if services:
            raise ValueError(f"course_launch_buttons: {', '.join(services)} need repository_url "
                             f"(https://github.com/<owner>/<repo>), got none")
        return None
    if not services:
        return None
    github = GITHUB.match(repository)
    if github is None:
        raise ValueError("course_launch_buttons: expected repository_url = https://github.com/<owner>/<repo> "
                         f"(Binder and Colab links are built for GitHub), got {repository!r}")
    for name, url in services.items():
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"course_launch_buttons: expected the {name} address as https://..., "
                             f"got {url!r}")
    if settings["interface"] not in INTERFACES:
        raise ValueError(f"course_launch_buttons: expected interface in {', '.join(INTERFACES)}, "
                         f"got {settings['interface']!r}")
    for key in ("branch", "package_branch"):
        if not settings[key]:
            raise ValueError(f"course_launch_buttons: expected a branch name for {key}, got none")
    return LaunchSettings(repository_url=repository, owner=github["owner"], repo=github["repo"],
                          branch=settings["branch"], site_path=settings["site_path"].strip("/"),
                          package_branch=settings["package_branch"], services=services,
                          interface=settings["interface"])


def notebook_path(settings: LaunchSettings, language: str, docname: str) -> str:
    """Where the page's notebook is inside the published branch: <site_path>/<lang>/_sources/<page>.ipynb."""
    parts = [settings.site_path, language, NOTEBOOK_DIR, f"{docname}.ipynb"]
    return "/".join(part for part in parts if part)


def launch_links(settings: LaunchSettings, language: str, docname: str) -> dict[str, str]:
    """Service name -> the URL that opens the page's notebook there."""
    path = notebook_path(settings, language, docname)
    ui = INTERFACES[settings.interface]
    links = {}
    for name, base in settings.services.items():
        if name == "JupyterHub":  # nbgitpuller clones the branch into ~/<repo>, then opens the file
            query = urlencode({"repo": settings.repository_url, "branch": settings.branch,
                               "urlpath": f"{ui}/{settings.repo}/{path}"}, quote_via=quote)
            links[name] = f"{base}/hub/user-redirect/git-pull?{query}"
        elif name == "Binder":  # Binder opens the branch's root; the path is relative to it
            links[name] = (f"{base}/v2/gh/{settings.owner}/{settings.repo}/{quote(settings.branch, safe='')}"
                           f"?urlpath={quote(f'{ui}/{path}', safe='')}")
        elif name == "Colab":
            links[name] = f"{base}/github/{settings.owner}/{settings.repo}/blob/{settings.branch}/{path}"
    return links


def install_source(settings: LaunchSettings, language: str) -> str:
    """The notebook's first code cell when buttons are on: install lossfns where it is missing."""
    package = f"lossfns @ git+{settings.repository_url}@{settings.package_branch}"
    return (f"# {TEXT[language]['install']}\n"
            "import importlib.util\n\n"
            'if importlib.util.find_spec("lossfns") is None:\n'
            "    %pip install --quiet --extra-index-url https://download.pytorch.org/whl/cpu "
            f'"{package}" "keras>=3,<4"')


def install_cells(config: Config, language: str) -> list:
    """[the install cell] when the buttons are on, else []."""
    settings = launch_settings(config.course_launch_buttons)
    return [] if settings is None else [nbformat.v4.new_code_cell(install_source(settings, language))]


def _check(app: Sphinx, config: Config) -> None:
    try:
        launch_settings(config.course_launch_buttons)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _add_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """After sphinx-book-theme filled the header (priority 501): a launch menu on chapter pages."""
    settings = launch_settings(app.config.course_launch_buttons)
    if settings is None or doctree is None or chapter_of(pagename) is None:
        return
    text = TEXT[app.config.language]
    buttons = [{"type": "link", "text": name, "tooltip": text["button"].format(service=name),
                "icon": ICONS[name], "url": url, "label": f"launch-{name.lower()}"}
               for name, url in launch_links(settings, app.config.language, pagename).items()]
    context.setdefault("header_buttons", []).append(
        {"type": "group", "tooltip": text["group"], "icon": "fas fa-rocket", "buttons": buttons,
         "label": "launch-buttons"})


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_launch_buttons", dict(DEFAULTS), "html", dict)
    app.connect("config-inited", _check)
    app.connect("html-page-context", _add_buttons, priority=502)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

