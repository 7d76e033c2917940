"""The code on the Spanish pages speaks Spanish: comments and the texts a reader sees.

Every code cell of book/es/*.md is read with myst-nb's reader; each ``#`` comment (found by
Python's tokenizer, so a ``#`` inside a string does not count), and each string given to
``print``, to a figure's title, axis labels, legend, annotations or ``label=``, is judged by
its words once code is set aside (inline code, identifiers with ``_`` or ``.``, calls,
numbers, formulas, quoted strings). Judged English: at least one English function word or
one of a few English words common in this course's comments, and no Spanish function word
or accented letter. Identifiers, formulas and shapes alone ("# (N, C)", "# logits",
"# D_KL(p || q)") are neither, and pass.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook

REPO = Path(__file__).resolve().parents[2]
SPANISH_PAGES = sorted(p for p in (REPO / "book" / "es").glob("*.md")
                       if is_myst_markdown_notebook(p.read_text(encoding="utf8")))

# Whole words, lower case. Words shared by both languages ("a", "no", "me", "e", "o", "y"
# (also a variable), "con"...) are in neither list.
ENGLISH = {
    "the", "of", "and", "is", "are", "was", "were", "be", "been", "being", "with", "for", "to", "from",
    "not", "this", "that", "these", "those", "gives", "give", "same", "by", "into", "when", "each", "its",
    "it's", "an", "or", "as", "at", "on", "in", "than", "then", "but", "if", "only", "also", "too", "so",
    "which", "what", "while", "where", "why", "how", "does", "do", "did", "doesn't", "don't", "isn't",
    "aren't", "has", "have", "had", "here", "there", "their", "they", "we", "you", "your", "our", "all",
    "both", "every", "after", "before", "over", "under", "between", "through", "without", "within", "per",
    "one", "two", "three", "first", "second", "third", "back", "again", "still", "just", "more", "most",
    "less", "least", "much", "many", "very", "will", "would", "can", "could", "should", "must", "may",
    "might", "let", "let's", "becomes", "become", "gets", "get", "takes", "take", "makes", "make", "uses",
    "use", "used", "shows", "show", "own", "other", "another", "such", "quoted", "itself", "them", "wrong",
    "right", "true", "labels", "label", "targets", "scores", "residuals", "examples", "example", "outcome",
    "outcomes", "probabilities", "probability", "predicted", "prediction", "predictions", "weights", "rows",
    "row", "sum", "mean", "name", "index", "indices", "class", "classes", "model", "output", "outputs",
    "network", "inside", "below", "above", "toward", "towards", "step", "steps", "fit", "perfect",
    "candidate", "constants", "logarithm", "uniform", "closed", "forms", "inferred", "moderate", "pulled",
    "textbooks", "wide", "lines", "line", "stars", "sunny", "cloudy", "rain", "snow", "positive",
    "negative", "shape",
}
SPANISH = {
    "el", "la", "los", "las", "lo", "un", "una", "unos", "unas", "de", "del", "al", "en", "por", "para",
    "con", "sin", "que", "es", "son", "está", "están", "fue", "ser", "se", "su", "sus", "como", "cada",
    "mismo", "misma", "mismos", "mismas", "este", "esta", "estos", "estas", "ese", "esa", "eso", "esto",
    "otro", "otra", "pero", "si", "sí", "ya", "muy", "más", "menos", "entre", "sobre", "hasta", "desde",
    "cuando", "donde", "porque", "pues", "aquí", "allí", "solo", "hay", "tiene", "tienen", "da", "dan",
    "sale", "salen", "queda", "quedan", "va", "van", "ni", "nunca", "siempre", "también", "tampoco", "cuál",
    "uno", "dos", "tres", "primero", "primera", "segundo", "segunda", "bien", "mal",
}
ACCENTED = re.compile(r"[áéíóúñü¿¡]", re.IGNORECASE)
CODE_LIKE = re.compile(
    r"`[^`]*`"                       # inline code
    r"|'[^']*'|\"[^\"]*\""            # quoted strings
    r"|\$[^$]*\$"                    # formulas
    r"|\b\w+(?:[._]\w+)+\b"          # dotted names, snake_case, 1e-7, 0.5
    r"|\b(?:one|multi)-hot\b"        # the Spanish name of the encodings too
    r"|\b[\w-]*\d[\w-]*"              # labels and numbers: eq-ch02-step-1, base-2, float32
    r"|\\[A-Za-z]+"                   # LaTeX commands: \in, \log
    r"|\b\w+\(|\b\w+="               # calls and keywords
    r"|\b[A-Za-z]\b"                 # one-letter symbols: N, C, p, q, y, z
)
FIGURE_TEXT_CALLS = {"print", "set_title", "set_xlabel", "set_ylabel", "suptitle", "title", "xlabel",
                     "ylabel", "legend", "annotate", "text", "set_label"}


def words(text: str) -> list[str]:
    return re.findall(r"[a-záéíóúñü']+", CODE_LIKE.sub(" ", text).lower())


def is_english(text: str) -> bool:
    found = words(text)
    if ACCENTED.search(CODE_LIKE.sub(" ", text)) or any(w in SPANISH for w in found):
        return False
    return any(w in ENGLISH for w in found)


def code_cells(path: Path) -> list[tuple[int, str]]:
    """(line in the page where the cell's code starts, code) for every code cell of a MyST page."""
    text = path.read_text(encoding="utf8")
    lines = text.split("\n")
    cells, search_from = [], 0
    for cell in read_myst_markdown_notebook(text).cells:
        if cell.cell_type != "code":
            continue
        first = cell.source.split("\n")[0]
        start = next(i for i in range(search_from, len(lines)) if lines[i] == first)
        cells.append((start + 1, cell.source))
        search_from = start + 1
    return cells


def english_comments(path: Path) -> list[str]:
    """``<file>:<line>: <comment>`` for every comment judged English."""
    found = []
    for start, source in code_cells(path):
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and is_english(token.string.lstrip("#")):
                found.append(f"{path.name}:{start + token.start[0] - 1}: {token.string}")
    return found


def _strings(node: ast.AST) -> list[str]:
    """The literal text of a string, f-string or list/tuple of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [" ".join(v.value for v in node.values if isinstance(v, ast.Constant))]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for element in node.elts for s in _strings(element)]
    return []


def english_texts(path: Path) -> list[str]:
    """``<file>:<line>: <text>`` for every reader-facing string judged English."""
    found = []
    for start, source in code_cells(path):
        tree = ast.parse("\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                                   for line in source.split("\n")))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            texts = []
            if name in FIGURE_TEXT_CALLS:
                texts += [s for arg in node.args for s in _strings(arg)]
            texts += [s for kw in node.keywords if kw.arg in ("label", "labels", "title")
                      for s in _strings(kw.value)]
            line = start + node.lineno - 1
            found += [f"{path.name}:{line}: {text!r}" for text in texts if is_english(text)]
    return found


@pytest.mark.parametrize("comment", [
    "# one loss each", "# y = +1, so the margin is the score", "# wrong order", "# labels in {-1, +1}",
    "# Entropy is the expected self-information, and bits = nats / ln 2.", "# right: C fixed",
])
def test_english_comments_are_caught(comment):
    assert is_english(comment)


@pytest.mark.parametrize("comment", [
    "# una pérdida por ejemplo", "# y = +1, así que el margen es la puntuación", "# orden equivocado",
    "# etiquetas en {-1, +1}", "# (N, C) = (4, 3): logits", "# D_KL(p || q)", "# J + (λ/2)‖w‖²",
    "# eq-ce-h-kl", "# 1/(2N): libros de texto", "# nn.Linear(d, 1) da (N, 1)", "# bien: C fijo",
    "# mal: softmax y luego log", "# logits", "# (y_true, y_pred)", "# float, no int64",
])
def test_spanish_comments_and_bare_code_pass(comment):
    assert not is_english(comment)


@pytest.mark.parametrize("path", SPANISH_PAGES, ids=lambda p: p.name)
def test_spanish_pages_have_no_english_code_comments(path):
    found = english_comments(path)
    assert not found, f"{len(found)} English comments on a Spanish page:\n" + "\n".join(found)


@pytest.mark.parametrize("path", SPANISH_PAGES, ids=lambda p: p.name)
def test_spanish_pages_print_and_label_in_spanish(path):
    found = english_texts(path)
    assert not found, "English text on a Spanish page:\n" + "\n".join(found)
