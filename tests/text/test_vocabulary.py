"""Tests for lossfns.text.vocabulary.Vocabulary."""

import random
from collections import Counter

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lossfns.text.vocabulary import UNK_TOKEN, Vocabulary

DOCS = [["el", "café", "está", "rico"], ["el", "té", "está", "frío"], ["el", "café", "frío"]]


def test_vocabulary_build_orders_by_frequency_then_alphabet():
    # counts: el 3, café 2, está 2, frío 2, rico 1, té 1
    assert Vocabulary.build(DOCS).tokens == [UNK_TOKEN, "el", "café", "está", "frío", "rico", "té"]


def test_vocabulary_build_counts_repeats_within_a_text():
    assert Vocabulary.build([["b", "a", "a"], ["b"]]).tokens == [UNK_TOKEN, "a", "b"]


def test_vocabulary_build_does_not_depend_on_text_order():
    shuffled = DOCS[:]
    random.Random(0).shuffle(shuffled)
    assert Vocabulary.build(shuffled) == Vocabulary.build(DOCS)


def test_vocabulary_min_freq_drops_rare_tokens():
    assert Vocabulary.build(DOCS, min_freq=2).tokens == [UNK_TOKEN, "el", "café", "está", "frío"]
    assert Vocabulary.build(DOCS, min_freq=4).tokens == [UNK_TOKEN]


def test_vocabulary_max_size_counts_unk_and_keeps_most_frequent():
    vocab = Vocabulary.build(DOCS, max_size=3)
    assert len(vocab) == 3 and vocab.tokens == [UNK_TOKEN, "el", "café"]


def test_vocabulary_encode_maps_unknown_to_unk_index():
    vocab = Vocabulary.build(DOCS)
    assert vocab.encode(["café", "mate", "el"]) == [2, 0, 1]
    assert vocab.unk_index == 0 and vocab.tokens[vocab.unk_index] == UNK_TOKEN


def test_vocabulary_decode_inverts_encode_for_known_tokens_and_accepts_tensors():
    vocab = Vocabulary.build(DOCS)
    tokens = ["té", "el", "rico"]
    assert vocab.decode(vocab.encode(tokens)) == tokens
    assert vocab.decode(torch.tensor(vocab.encode(tokens))) == tokens


def test_vocabulary_len_contains_and_rebuild_from_tokens():
    vocab = Vocabulary.build(DOCS)
    assert len(vocab) == 7
    assert "café" in vocab and "mate" not in vocab
    assert Vocabulary(vocab.tokens) == vocab
    tokens = vocab.tokens
    tokens.append("x")  # a copy: the vocabulary does not change
    assert len(vocab) == 7


def test_vocabulary_rejects_list_without_leading_unk():
    with pytest.raises(ValueError, match="expected a token list that starts with '<unk>'"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="expected a token list that starts with '<unk>'"):
        Vocabulary([])


def test_vocabulary_rejects_duplicates():
    with pytest.raises(ValueError, match=r"expected distinct tokens, got repeated tokens \['a'\]"):
        Vocabulary([UNK_TOKEN, "a", "a"])


@pytest.mark.parametrize("option, message", [({"min_freq": 0}, "expected min_freq >= 1, got 0"),
                                             ({"max_size": 0}, "expected max_size >= 1 or None, got 0")])
def test_vocabulary_build_rejects_bad_options(option, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary.build(DOCS, **option)


def test_vocabulary_build_rejects_raw_strings():
    with pytest.raises(ValueError, match="expected a list of tokens per text, got the string 'el café'"):
        Vocabulary.build(["el café"])


def test_vocabulary_encode_rejects_raw_string():
    with pytest.raises(ValueError, match="expected a list of tokens, got the string"):
        Vocabulary.build(DOCS).encode("café")


def test_vocabulary_build_rejects_reserved_token_in_corpus():
    with pytest.raises(ValueError, match="expected corpus tokens other than the reserved '<unk>'"):
        Vocabulary.build([["a", UNK_TOKEN]])


def test_vocabulary_decode_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"expected indices in \[0, 6\], got 7"):
        Vocabulary.build(DOCS).decode([7])
    with pytest.raises(ValueError, match=r"expected indices in \[0, 6\], got -1"):
        Vocabulary.build(DOCS).decode([-1])


@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=6), max_size=8),
       st.integers(1, 3))
def test_vocabulary_property_order_and_min_freq(docs, min_freq):
    counts = Counter(t for doc in docs for t in doc)
    vocab = Vocabulary.build(docs, min_freq=min_freq)
    kept = vocab.tokens[1:]
    assert set(kept) == {t for t, n in counts.items() if n >= min_freq}
    keys = [(-counts[t], t) for t in kept]
    assert keys == sorted(keys)
