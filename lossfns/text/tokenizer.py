"""A small rule-based tokenizer for Spanish and English short texts."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["NUMBER_TOKEN", "tokenize"]

NUMBER_TOKEN = "<num>"

# A word is a run of letters (any script, accents included), optionally joined by apostrophes
# ("don't", "l'eau"); a number is a run of digits with inner decimal or thousands separators.
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+(?:[.,]\d+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
# Numeric characters that are not decimal digits (², ½, Ⅳ) would otherwise count as letters in \w.
_OTHER_NUMERIC = re.compile(r"[^\W\d_]")


def tokenize(text: str, *, lowercase: bool = True, numbers: str = "map",
             truncate: int | None = None) -> list[str]:
    r"""Split a text into word and number tokens.

    Rules, in order:

    1. Unicode NFC normalisation, so an accent typed as a separate combining mark equals the
       precomposed letter (``"e\u0301"`` becomes ``"é"``). Accents are **kept**: Spanish
       *está* and *esta* are different words.
    2. Lower-casing (``str.lower``) if ``lowercase``.
    3. Punctuation and symbols are dropped, including Spanish ``¿`` and ``¡``, quotes, emoji
       and hyphens (``"bien-hecho"`` gives two tokens). Typographic apostrophes become ``'``
       and an apostrophe between letters stays inside the word, so English negations survive
       as one token (``"didn't"``).
    4. Numbers (``"4.2"``, ``"1,000"``, ``"300"``) are kept as they are with
       ``numbers='keep'``, replaced by the single token ``'<num>'`` with ``numbers='map'``
       (the default: in short reviews the value rarely matters, the presence of a figure
       does), or dropped with ``numbers='drop'``. Letters glued to digits split
       (``"300MB"`` gives ``'<num>', 'mb'``).
    5. With ``truncate=k`` every word keeps only its first k letters, a crude stemmer that works
       for any language: *recomiendo* and *recomendable* both become ``'recom'``,
       *delicious* and *deliciously* both ``'delic'``. With a few hundred training texts this
       lets a word seen in one form count for its relatives. Words with an apostrophe
       (English contractions such as *didn't*) stay whole. ``None`` keeps whole words.

    Args:
        text: the text to split.
        lowercase: lower-case the text first.
        numbers: ``'map'``, ``'keep'`` or ``'drop'`` (see rule 4).
        truncate: keep only the first ``truncate`` letters of each word (>= 1), or ``None``.

    Returns:
        The list of tokens, in text order (possibly empty).

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: ``numbers`` is not one of the three options, or ``truncate < 1``.

    Example:
        >>> tokenize("¡Qué rico! ¿Cuánto cuesta? 4.50 € nada más")
        ['qué', 'rico', 'cuánto', 'cuesta', '<num>', 'nada', 'más']
        >>> tokenize("It didn't crash, v4.2", numbers="keep")
        ['it', "didn't", 'crash', 'v', '4.2']
        >>> tokenize("Recomiendo este café, muy recomendable", truncate=5)
        ['recom', 'este', 'café', 'muy', 'recom']
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    if numbers not in ("map", "keep", "drop"):
        raise ValueError(f"expected numbers in ('map', 'keep', 'drop'), got {numbers!r}")
    if truncate is not None and (not isinstance(truncate, int) or truncate < 1):
        raise ValueError(f"expected truncate to be an int >= 1 or None, got {truncate!r}")
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    if lowercase:
        text = text.lower()
    text = _OTHER_NUMERIC.sub(lambda m: m[0] if m[0].isalpha() else " ", text)
    tokens = []
    for token in _TOKEN.findall(text):
        if token[0].isdigit():
            if numbers == "drop":
                continue
            if numbers == "map":
                token = NUMBER_TOKEN
        elif truncate is not None and "'" not in token:
            token = token[:truncate]
        tokens.append(token)
    return tokens
