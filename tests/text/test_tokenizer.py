"""Tests for lossfns.text.tokenizer.tokenize."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lossfns.text.tokenizer import NUMBER_TOKEN, tokenize


def test_tokenize_lowercases_and_strips_spanish_punctuation():
    assert tokenize("¡Hola! ¿Qué tal, Señora?") == ["hola", "qué", "tal", "señora"]


def test_tokenize_keeps_accents_distinct():
    assert tokenize("Está esta") == ["está", "esta"]


def test_tokenize_normalises_combining_accents_to_precomposed():
    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    assert tokenize(decomposed) == ["café"]


def test_tokenize_keeps_case_when_asked():
    assert tokenize("Buenos Aires", lowercase=False) == ["Buenos", "Aires"]


def test_tokenize_keeps_contractions_and_normalises_typographic_apostrophe():
    expected = ["i", "didn't", "like", "it", "it", "wasn't", "good"]
    assert tokenize("I didn’t like it, it wasn't good") == expected


def test_tokenize_drops_quotes_hyphens_symbols_and_emoji():
    assert tokenize('"Bien-hecho" :) 😀 → #top @ana') == ["bien", "hecho", "top", "ana"]


def test_tokenize_drops_leading_and_trailing_apostrophes():
    assert tokenize("'quoted' rock'n'roll") == ["quoted", "rock'n'roll"]


@pytest.mark.parametrize("numbers, expected", [
    ("map", ["versión", NUMBER_TOKEN, "de", NUMBER_TOKEN, "mb", "y", NUMBER_TOKEN]),
    ("keep", ["versión", "4.2", "de", "300", "mb", "y", "1,000"]),
    ("drop", ["versión", "de", "mb", "y"]),
])
def test_tokenize_number_options(numbers, expected):
    assert tokenize("Versión 4.2 de 300MB y 1,000.", numbers=numbers) == expected


def test_tokenize_truncate_cuts_words_but_not_numbers_or_contractions():
    assert tokenize("Recomendable, recomiendo 12345678 don't", truncate=5, numbers="keep") == \
        ["recom", "recom", "12345678", "don't"]
    assert tokenize("un sí", truncate=5) == ["un", "sí"]


def test_tokenize_empty_and_punctuation_only_texts_give_no_tokens():
    assert tokenize("") == []
    assert tokenize("¡¿...?!") == []


def test_tokenize_rejects_non_string():
    with pytest.raises(TypeError, match="expected a str, got list"):
        tokenize(["hola"])


def test_tokenize_rejects_unknown_numbers_option():
    with pytest.raises(ValueError, match=r"expected numbers in \('map', 'keep', 'drop'\), got 'remove'"):
        tokenize("1", numbers="remove")


@pytest.mark.parametrize("truncate", [0, -1, 2.5])
def test_tokenize_rejects_bad_truncate(truncate):
    with pytest.raises(ValueError, match="expected truncate to be an int >= 1 or None"):
        tokenize("hola", truncate=truncate)


@given(st.text(max_size=60))
def test_tokenize_tokens_are_lowercase_nonempty_words_or_numbers(text):
    for token in tokenize(text):
        assert token
        assert token == NUMBER_TOKEN or token == token.lower()
        assert token == NUMBER_TOKEN or all(ch.isalpha() or ch == "'" for ch in token)
        assert not token.startswith("'") and not token.endswith("'")


@given(st.text(max_size=60))
def test_tokenize_is_idempotent_on_its_own_output(text):
    tokens = tokenize(text, numbers="keep")
    assert tokenize(" ".join(tokens), numbers="keep") == tokens
