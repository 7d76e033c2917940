"""The chapters follow the course's notation (HOUSE_RULES.md; stated on book/<lang>/notation.md).

Concrete, forbidden patterns in the pages' math ($...$, $$...$$) and, for the L2 penalty,
in the code too, each with the form the notation asks for instead:

* per-example loss ``\\ell_i``, never ``J_i`` (``J`` is the cost, the reduction over the batch);
* batch size ``N`` (examples ``i = 1..N``), never ``B``, and sums over examples run over ``i``;
* ``C`` classes numbered ``0..C-1``: never ``K`` for their number, sums ``\\sum_{k=0}^{C-1}``;
* one L2 convention, ``(\\lambda/2)\\lVert w \\rVert^2``: never ``\\lambda \\lVert w \\rVert^2``.

Chapter 4's worked network keeps its own unit numbers (``\\sum_{k=1}^{4}``) and its ``E``:
numeric bounds are not class sums, and ``E`` is not checked here.
"""

import re
from pathlib import Path

import pytest
from booksite import CHAPTERS, LANGUAGES, REPO

# A match right after one of these is the (λ/2) convention, not a break of it.
AFTER_HALF = re.compile(r"(?:\\[dt]?frac\s*\{?1\}?\s*\{?2\}?|\\tfrac12|\\frac12|½|1/2|0\.5)"
                        r"\s*(?:\\[,;]\s*)?$")
MATH_RULES = [  # (what to write instead, pattern, exempt when the text before it matches)
    ("per-example loss J_i: write \\ell_i", re.compile(r"(?<![\\\w])J_\{?[a-z]\}?(?![\w{])"), None),
    ("batch size B: write N", re.compile(r"(?<![\\\w])(?<!\\mathcal\{)(?<!\\mathrm\{)B(?![\w])"), None),
    ("number of classes K: write C", re.compile(r"(?<![\\\w])K(?![\w])"), None),
    ("class sum from 1 to C: write \\sum_{k=0}^{C-1}",
     re.compile(r"\\sum_\{?\s*[a-z]\s*=\s*1\s*\}?\s*\^\s*\{?\s*C\s*\}?(?!\s*-)"
                r"|[a-z]\s*=\s*1\s*,\s*\\[lc]?dots\s*,\s*C\b(?!\s*-)"), None),
    ("sum over examples with an index other than i: write \\sum_{i=1}^{N}",
     re.compile(r"\\sum_\{?\s*[a-hj-z]\s*=\s*1\s*\}?\s*\^\s*\{?\s*N\s*\}?"), None),
    ("L2 penalty without 1/2: write \\frac{\\lambda}{2}\\lVert w \\rVert^2",
     re.compile(r"\\lambda\s*(?:\\[,;!]\s*)*(?:\\left)?\s*(?:\\lVert|\\Vert|\\\||\|\|)"
                r"(?![^$|]*?(?:\\rVert|\\Vert|\\\||\|\|)_\{?[01]\b)"), AFTER_HALF),  # L0, L1: not L2
    ("L2 penalty without 1/2: write \\frac{\\lambda}{2}\\sum w^2",
     re.compile(r"\\lambda\s*\\sum[^$]*?\^\s*\{?2\}?"), AFTER_HALF),
]
TEXT_RULES = [  # prose, comments and code
    ("L2 penalty without 1/2: write (λ/2)‖w‖²", re.compile(r"λ\s*(?:‖|\|\|)"),
     re.compile(r"[½/(]$")),
    ("L2 penalty without 1/2 in code: 0.5 * lam * w.pow(2).sum()",
     re.compile(r"\blam\w*\s*\*\s*\(?[\w.\[\]]+(?:\.pow\(2\)|\s*\*\*\s*2\)?|\.square\(\))(?![^#\n]*/\s*2)"),
     re.compile(r"0\.5\s*\*\s*$")),
]
DISPLAY = re.compile(r"^\s*\$\$")
INLINE = re.compile(r"(?<!\$)\$(?!\$)([^$\n]+)(?<!\$)\$(?!\$)")


def math_segments(text: str) -> list[tuple[int, str]]:
    """(line number, math) for each display-math line and each inline $...$ of a page."""
    segments, display = [], False
    for number, line in enumerate(text.split("\n"), start=1):
        if DISPLAY.match(line):
            body = line.strip()[2:]
            if display or not body.rstrip().endswith("$$"):
                display = not display
            if body.strip() and not body.strip().startswith("("):  # "$$ (label)" closes
                segments.append((number, body.replace("$$", "")))
            continue
        if display:
            segments.append((number, line))
        else:
            segments += [(number, match.group(1)) for match in INLINE.finditer(line)]
    return segments


def notation_problems(path: Path) -> list[str]:
    """``<lang>/<file>:<line>: <rule>: <offending text>`` for every break of the notation."""
    text = path.read_text(encoding="utf8")
    where = f"{path.parent.name}/{path.name}"
    problems = []
    lines = [(number, math, MATH_RULES) for number, math in math_segments(text)]
    lines += [(number, line, TEXT_RULES) for number, line in enumerate(text.split("\n"), start=1)]
    for number, line, rules in lines:
        for rule, pattern, exempt in rules:
            for match in pattern.finditer(line):
                if exempt is None or not exempt.search(line[:match.start()]):
                    problems.append(f"{where}:{number}: {rule}: {line.strip()}")
    return sorted(set(problems), key=lambda p: int(p.split(":")[1]))


PAGES = [chapter.page_path(lang) for chapter in CHAPTERS for lang in LANGUAGES]
PAGES += [REPO / "book" / lang / "notation.md" for lang in LANGUAGES]


@pytest.mark.parametrize(("snippet", "flagged"), [
    ("$J_i = J(f(x_i), y_i)$", True), ("$J_{i}$", True), ("$\\ell_i$ y $J(\\theta)$", False),
    ("$\\frac{1}{B}\\sum_{i=1}^{B} \\ell_i$", True), ("con $B = 8$", True), ("$N = 8$", False),
    ("$\\text{BCE}$, $\\mathcal{B}$", False),
    ("$\\sum_{k=1}^{K} y_k$", True), ("$N K$ salidas", True), ("$D_{\\mathrm{KL}}$", False),
    ("$\\sum_{k=1}^{C} p_k$", True), ("$\\sum_{k=1}^C p_k$", True), ("$\\sum_{k=0}^{C-1} p_k$", False),
    ("$k = 1, \\dots, C$", True), ("umbrales $j = 1, \\dots, C-1$", False),
    ("$\\sum_{k=1}^{4} \\delta_k$", False),
    ("$\\frac{1}{N}\\sum_{n=1}^{N} \\ell_n$", True), ("$\\frac{1}{N}\\sum_{i=1}^{N} \\ell_i$", False),
    ("$J + \\lambda \\lVert w \\rVert^2$", True), ("$\\lambda\\|w\\|_2^2$", True),
    ("$J + \\frac{\\lambda}{2} \\lVert w \\rVert^2$", False), ("$\\tfrac{\\lambda}{2}\\|w\\|^2$", False),
    ("$\\frac{1}{2}\\lambda \\lVert w \\rVert^2$", False),
    ("$J + \\lambda\\lVert w \\rVert_0$", False), ("$J + \\lambda \\lVert w \\rVert_1$", False),
    ("$E + \\lambda \\sum_{j,k} W_{jk}^2$", True), ("$E + \\frac{\\lambda}{2} \\sum_{j,k} W_{jk}^2$", False),
    ("x = cost + lam * w.pow(2).sum()  # J + λ‖w‖²", True),
    ("x = cost + 0.5 * lam * w.pow(2).sum()  # J + (λ/2)‖w‖²", False),
    ("x = cost + lam * (w ** 2).sum() / 2", False),
])
def test_the_rules_catch_exactly_the_forbidden_forms(tmp_path, snippet, flagged):
    page = tmp_path / "es" / "page.md"
    page.parent.mkdir()
    page.write_text(f"Texto\n\n{snippet}\n", encoding="utf8")
    assert bool(notation_problems(page)) == flagged, notation_problems(page)


def test_display_math_is_checked_line_by_line(tmp_path):
    page = tmp_path / "en" / "page.md"
    page.parent.mkdir()
    page.write_text("$$\nJ = \\frac{1}{B} \\sum_i \\ell_i\n$$ (eq-x)\n\n$$ \\ell_i $$\n", encoding="utf8")
    assert notation_problems(page) == [
        "en/page.md:2: batch size B: write N: J = \\frac{1}{B} \\sum_i \\ell_i"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_follow_the_course_notation(path):
    problems = notation_problems(path)
    assert not problems, f"{len(problems)} breaks of the notation (HOUSE_RULES.md):\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_notation_page_states_the_course_notation(lang):
    text = (REPO / "book" / lang / "notation.md").read_text(encoding="utf8")
    for symbol in ("\\ell", "N", "C - 1" if "C - 1" in text else "C-1", "\\lambda"):
        assert symbol in text, f"{lang}/notation.md does not mention {symbol}"
    assert re.search(r"\\[dt]?frac\{\\lambda\}\{2\}|\\lambda\s*/\s*2", text), \
        f"{lang}/notation.md: no (λ/2)‖w‖² convention"
