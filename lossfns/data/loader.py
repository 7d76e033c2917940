"""Read a CSV of labelled texts (one ``text`` and one ``label`` column) with clear errors.

The course ships a small hand-written corpus per language (``load_corpus('es')``,
``load_corpus('en')``); ``read_labelled_csv`` reads any CSV of the same shape, so a
teacher can plug in a real corpus.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import os
from dataclasses import dataclass, field

__all__ = ["LabelledTexts", "available_corpora", "load_corpus", "read_labelled_csv"]


@dataclass(frozen=True)
class LabelledTexts:
    """Texts, their labels and the sorted list of distinct labels.

    Attributes:
        texts: the N texts, stripped of surrounding whitespace, in file order.
        labels: the N labels (strings), stripped, in file order.
        classes: the distinct labels sorted alphabetically (``sorted(set(labels))``), so the
            class order does not depend on the row order; class index ``k`` means ``classes[k]``.

    Example:
        >>> data = LabelledTexts(["good", "bad", "fine"], ["pos", "neg", "pos"])
        >>> data.classes, data.targets
        (['neg', 'pos'], [1, 0, 1])
    """

    texts: list[str]
    labels: list[str]
    classes: list[str] = field(default=None)

    def __post_init__(self):
        if len(self.texts) != len(self.labels):
            raise ValueError(f"expected as many labels as texts, got {len(self.texts)} texts "
                             f"and {len(self.labels)} labels")
        if self.classes is None:
            object.__setattr__(self, "classes", sorted(set(self.labels)))
        unknown = sorted(set(self.labels) - set(self.classes))
        if unknown:
            raise ValueError(f"expected every label in classes {self.classes}, got unknown labels {unknown}")

    @property
    def targets(self) -> list[int]:
        """Class index of every label (position in ``classes``)."""
        index = {name: k for k, name in enumerate(self.classes)}
        return [index[label] for label in self.labels]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices) -> LabelledTexts:
        """The rows at ``indices``, keeping the full ``classes`` list (for train/test splits)."""
        return LabelledTexts([self.texts[i] for i in indices], [self.labels[i] for i in indices],
                             list(self.classes))


def read_labelled_csv(path, *, text_column: str = "text", label_column: str = "label",
                      encoding: str = "utf-8", delimiter: str = ",") -> LabelledTexts:
    r"""Read a CSV file with a header row, one text column and one label column.

    Other columns are ignored. Texts and labels are stripped of surrounding whitespace.
    A UTF-8 byte-order mark (written by some spreadsheet programs) is ignored. Row numbers in
    error messages count the header as row 1, as a spreadsheet shows them.

    Args:
        path: path of the CSV file (str or ``os.PathLike``).
        text_column: name of the column with the texts.
        label_column: name of the column with the labels.
        encoding: text encoding of the file, e.g. ``'utf-8'``, ``'latin-1'``, ``'cp1252'``.
        delimiter: field separator (``';'`` for CSVs exported by a spreadsheet with a comma
            decimal separator).

    Returns:
        A :class:`LabelledTexts` with ``classes`` sorted alphabetically.

    Raises:
        FileNotFoundError: ``path`` does not exist or is a directory.
        ValueError: the file cannot be decoded with ``encoding``; it is empty; a requested
            column is missing (the message lists the columns found); there are no data rows;
            a row has more fields than the header; a text or label is empty (the message gives
            the row); all rows carry the same label.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.csv"
        >>> _ = path.write_text('text,label\n"Great, thanks!",pos\nAwful.,neg\n', encoding="utf-8")
        >>> data = read_labelled_csv(path)
        >>> data.texts, data.labels, data.classes
        (['Great, thanks!', 'Awful.'], ['pos', 'neg'], ['neg', 'pos'])
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"expected a CSV file at '{path}', got no such file")
    if os.path.isdir(path):
        raise FileNotFoundError(f"expected a CSV file at '{path}', got a directory")
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        content = raw.decode(encoding)
    except UnicodeDecodeError as error:
        bad = raw[error.start:error.start + 1].hex()
        raise ValueError(
            f"expected a file encoded as '{encoding}', got byte 0x{bad} at position {error.start} that "
            f"'{encoding}' cannot decode in '{path}'; pass the file's encoding, e.g. encoding='latin-1' "
            f"or encoding='cp1252' for files saved by Excel on Windows") from None
    except LookupError:
        raise ValueError(f"expected a known text encoding such as 'utf-8' or 'latin-1', "
                         f"got encoding={encoding!r}") from None
    return _parse(content.removeprefix("\ufeff"), path, text_column, label_column, delimiter)


def _parse(content: str, source: str, text_column: str, label_column: str, delimiter: str) -> LabelledTexts:
    """Parse decoded CSV text; ``source`` names the file in error messages."""
    if not content.strip():
        raise ValueError(f"expected a header row with columns '{text_column}' and '{label_column}', "
                         f"got an empty file '{source}'")
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    missing = [name for name in (text_column, label_column) if name not in header]
    if missing:
        hint = ""
        if len(header) == 1 and ";" in header[0] and delimiter != ";":
            hint = "; the header contains ';', so try delimiter=';'"
        else:
            hint = "; pass text_column=... and label_column=... to name the columns to use"
        raise ValueError(f"expected columns '{text_column}' and '{label_column}' in '{source}', "
                         f"got columns {header} (missing {missing}){hint}")
    if text_column == label_column:
        raise ValueError(f"expected different columns for texts and labels, got '{text_column}' for both")
    text_at, label_at = header.index(text_column), header.index(label_column)
    texts, labels = [], []
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines (often at the end of hand-edited files) carry no example
        if len(row) > len(header):
            raise ValueError(f"expected at most {len(header)} fields in row {row_number} of '{source}', "
                             f"got {len(row)}; put texts that contain '{delimiter}' in double quotes")
        text = row[text_at].strip() if text_at < len(row) else ""
        label = row[label_at].strip() if label_at < len(row) else ""
        for name, value in ((text_column, text), (label_column, label)):
            if not value:
                raise ValueError(f"expected a non-empty '{name}' in row {row_number} of '{source}' "
                                 f"(the header is row 1), got an empty value")
        texts.append(text)
        labels.append(label)
    if not texts:
        raise ValueError(f"expected at least one data row after the header of '{source}', got none")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"expected at least 2 distinct labels in column '{label_column}' of '{source}', "
                         f"got only {classes[0]!r}; a classifier needs examples of several classes")
    return LabelledTexts(texts, labels, classes)


def available_corpora() -> list[str]:
    """Language codes of the corpora shipped with the package, sorted.

    Example:
        >>> available_corpora()
        ['en', 'es']
    """
    corpus = importlib.resources.files("lossfns") / "data" / "corpus"
    return sorted(entry.name[:-4] for entry in corpus.iterdir() if entry.name.endswith(".csv"))


def load_corpus(lang: str) -> LabelledTexts:
    """Load the small hand-written corpus shipped with the course for language ``lang``.

    Args:
        lang: ``'es'`` (labels negativo/neutro/positivo) or ``'en'`` (negative/neutral/positive).

    Returns:
        A :class:`LabelledTexts`; ``classes`` is sorted alphabetically.

    Raises:
        ValueError: no corpus for ``lang`` (the message lists the available languages).

    Example:
        >>> corpus = load_corpus("es")
        >>> corpus.classes
        ['negativo', 'neutro', 'positivo']
    """
    available = available_corpora()
    if lang not in available:
        raise ValueError(f"expected lang in {available}, got {lang!r}; for other data use "
                         f"read_labelled_csv(path)")
    resource = importlib.resources.files("lossfns") / "data" / "corpus" / f"{lang}.csv"
    with importlib.resources.as_file(resource) as path:
        return read_labelled_csv(path)
