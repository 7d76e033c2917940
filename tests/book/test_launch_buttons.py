"""Launch buttons (book/_ext/launch_buttons.py): off by default, the right links when a course turns
them on. Config -> links at build-time level, without a second book build."""

from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml
from booksite import REPO, html_pages
from chapter_notebook import to_notebook
from IPython.core.inputtransformer2 import TransformerManager
from launch_buttons import _add_buttons, install_cells, install_source, launch_links, launch_settings

from coursework.chapters import CHAPTERS

SAMPLE, OTHER = CHAPTERS[1], CHAPTERS[-1]

COURSE = {
    "repository_url": "https://github.com/example-uni/loss-course",
    "branch": "gh-pages", "site_path": "book", "package_branch": "main",
    "jupyterhub_url": "https://hub.example.edu/", "binderhub_url": "https://mybinder.org",
    "colab_url": "https://colab.research.google.com", "interface": "lab",
}
NOTEBOOK = f"book/es/_sources/{SAMPLE.page}.ipynb"  # inside the gh-pages branch


def configured() -> dict:
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf8"))
    return config["sphinx"]["config"]["course_launch_buttons"]


def test_the_repository_config_has_the_buttons_off():
    assert configured()["repository_url"] == ""
    assert launch_settings(configured()) is None
    assert launch_settings({}) is None
    assert launch_settings({"repository_url": COURSE["repository_url"]}) is None  # no service: nothing


def test_each_service_opens_the_chapter_notebook_of_the_published_branch():
    links = launch_links(launch_settings(COURSE), "es", SAMPLE.page)
    assert list(links) == ["JupyterHub", "Binder", "Colab"]
    assert links["Colab"] == ("https://colab.research.google.com/github/example-uni/loss-course/blob/"
                              f"gh-pages/{NOTEBOOK}")
    binder = urlsplit(links["Binder"])
    assert binder._replace(query="").geturl() == "https://mybinder.org/v2/gh/example-uni/loss-course/gh-pages"
    assert parse_qs(binder.query) == {"urlpath": [f"lab/tree/{NOTEBOOK}"]}
    hub = urlsplit(links["JupyterHub"])  # nbgitpuller: clone the branch into ~/loss-course, open the file
    assert hub._replace(query="").geturl() == "https://hub.example.edu/hub/user-redirect/git-pull"
    assert parse_qs(hub.query) == {"repo": [COURSE["repository_url"]], "branch": ["gh-pages"],
                                   "urlpath": [f"lab/tree/loss-course/{NOTEBOOK}"]}


def test_links_follow_the_language_the_site_path_and_the_interface():
    settings = launch_settings({**COURSE, "site_path": "", "interface": "notebook", "binderhub_url": "",
                                "colab_url": ""})
    links = launch_links(settings, "en", OTHER.page)
    assert list(links) == ["JupyterHub"]
    query = parse_qs(urlsplit(links["JupyterHub"]).query)
    assert query["urlpath"] == [f"tree/loss-course/en/_sources/{OTHER.page}.ipynb"]


@pytest.mark.parametrize(("options", "message"), [
    ({"binderhub_url": "https://mybinder.org"}, "need repository_url"),
    ({**COURSE, "repository_url": "https://gitlab.com/a/b"}, "github.com"),
    ({**COURSE, "colab_url": "colab.research.google.com"}, "https://"),
    ({**COURSE, "interface": "classic"}, "interface"),
    ({**COURSE, "branch": ""}, "branch"),
    ({**COURSE, "hub": "x"}, "expected keys"),
])
def test_a_bad_configuration_is_a_clear_error(options, message):
    with pytest.raises(ValueError, match=message):
        launch_settings(options)


def test_with_buttons_on_the_notebook_first_installs_the_course_package_where_missing():
    source = install_source(launch_settings(COURSE), "es")
    assert '"lossfns @ git+https://github.com/example-uni/loss-course@main"' in source
    assert 'if importlib.util.find_spec("lossfns") is None:' in source
    compile(TransformerManager().transform_cell(source), "<install cell>", "exec")  # valid IPython
    config = SimpleNamespace(course_launch_buttons=COURSE)
    page = SAMPLE.page_path("es").read_text(encoding="utf8")
    resolver = SimpleNamespace(language="es", xref=lambda d, k, t, title: title or t,
                               equation_number=str, figure_number=str, glue=lambda k, kind, fmt: k,
                               bibliography=list, warn=print)
    notebook = to_notebook(page, resolver, SAMPLE, first_cells=install_cells(config, "es"))
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0] == source  # before any of the page's code


def test_with_buttons_on_chapter_pages_get_a_launch_menu_and_other_pages_none():
    app = SimpleNamespace(config=SimpleNamespace(course_launch_buttons=COURSE, language="en"))
    context = {"header_buttons": []}
    _add_buttons(app, SAMPLE.page, "page.html", context, doctree=object())
    [group] = context["header_buttons"]
    assert group["label"] == "launch-buttons"
    assert [(b["text"], b["url"]) for b in group["buttons"]] == list(
        launch_links(launch_settings(COURSE), "en", SAMPLE.page).items())
    assert all(b["icon"].startswith("_static/") for b in group["buttons"])  # logos served by the site
    for page in ("notation", "index"):
        context = {"header_buttons": []}
        _add_buttons(app, page, "page.html", context, doctree=object())
        assert context["header_buttons"] == []


def test_the_default_build_has_no_launch_buttons_nor_links_to_a_launch_service(site):
    services = ("dropdown-launch-buttons", "mybinder", "/v2/gh/", "colab.research", "git-pull",
                "user-redirect")
    offenders = [f"{page.relative_to(site)}: {service}" for page in html_pages(site)
                 for service in services if service in unquote(page.read_text(encoding="utf8"))]
    assert not offenders, "\n".join(offenders)
