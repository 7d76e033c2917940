"""Tests for lossfns.text.vectorizer: multi-hot bag-of-words and label encoding."""

import pytest
import torch

from lossfns.text.tokenizer import tokenize
from lossfns.text.vectorizer import LabelEncoder, TextVectorizer
from lossfns.text.vocabulary import Vocabulary

TEXTS = ["¡Qué rico el café!", "El café está frío.", "El té está rico, rico."]


def reference_multi_hot(texts, vocab, **options):
    """Plain-Python bag of words: 1 where the vocabulary entry (or <unk>) occurs."""
    rows = []
    for text in texts:
        present = {tok if tok in vocab else "<unk>" for tok in tokenize(text, **options)}
        rows.append([1.0 if entry in present else 0.0 for entry in vocab.tokens])
    return torch.tensor(rows)


def test_text_vectorizer_matches_plain_python_bag_of_words():
    vec = TextVectorizer.fit(TEXTS)
    new = ["Rico café con leche", "", "¿Frío? ¡Nada!"]
    torch.testing.assert_close(vec(new), reference_multi_hot(new, vec.vocabulary), rtol=0, atol=0)
    torch.testing.assert_close(vec(TEXTS), reference_multi_hot(TEXTS, vec.vocabulary), rtol=0, atol=0)


def test_text_vectorizer_records_presence_not_counts():
    vec = TextVectorizer.fit(TEXTS)
    row = vec(["rico rico rico"])[0]
    assert row[vec.vocabulary.encode(["rico"])[0]] == 1 and row.sum() == 1


def test_text_vectorizer_unknown_words_switch_on_unk_column():
    vec = TextVectorizer.fit(TEXTS)
    assert vec(["mate"])[0, 0] == 1
    assert vec(["café"])[0, 0] == 0


def test_text_vectorizer_shape_dtype_and_empty_batch():
    vec = TextVectorizer.fit(TEXTS)
    assert vec(TEXTS).shape == (3, len(vec.vocabulary)) and vec(TEXTS).dtype == torch.float32
    assert vec(TEXTS, dtype=torch.float64).dtype == torch.float64
    assert vec([]).shape == (0, len(vec.vocabulary))


def test_text_vectorizer_fit_passes_tokenizer_and_vocabulary_options():
    vec = TextVectorizer.fit(["Recomiendo", "recomendable 12", "nada"], truncate=5, numbers="drop",
                             min_freq=2)
    assert vec.vocabulary.tokens == ["<unk>", "recom"]
    assert vec.tokenize("Recomendamos 3") == ["recom"]


def test_text_vectorizer_config_round_trip():
    vec = TextVectorizer.fit(TEXTS, truncate=4, numbers="keep")
    again = TextVectorizer.from_config(vec.config)
    assert again.vocabulary == vec.vocabulary
    torch.testing.assert_close(again(TEXTS + ["caf 12"]), vec(TEXTS + ["caf 12"]))


def test_text_vectorizer_rejects_single_string():
    with pytest.raises(TypeError, match="expected a list of texts, got a single str"):
        TextVectorizer.fit(TEXTS)("hola")


def test_text_vectorizer_rejects_non_string_text():
    with pytest.raises(TypeError, match="expected every text to be a str, got int at position 1"):
        TextVectorizer.fit(["a", 3])


def test_text_vectorizer_rejects_bad_tokenizer_option():
    with pytest.raises(ValueError, match="expected numbers in"):
        TextVectorizer(Vocabulary(["<unk>"]), numbers="nope")


def test_label_encoder_indices_and_one_hot_match_torch():
    enc = LabelEncoder(["negativo", "neutro", "positivo"])
    labels = ["positivo", "negativo", "neutro", "positivo"]
    index = enc.encode(labels)
    assert index.dtype == torch.int64 and index.tolist() == [2, 0, 1, 2]
    torch.testing.assert_close(enc.one_hot(labels), torch.nn.functional.one_hot(index, 3))
    assert enc.decode(index) == labels
    assert len(enc) == 3


def test_label_encoder_rejects_unknown_label():
    with pytest.raises(ValueError, match=r"expected labels in \['neg', 'pos'\], got 'neutral'"):
        LabelEncoder(["neg", "pos"]).encode(["pos", "neutral"])


def test_label_encoder_rejects_single_string():
    with pytest.raises(TypeError, match="expected a list of labels, got a single str 'pos'"):
        LabelEncoder(["neg", "pos"]).encode("pos")


@pytest.mark.parametrize("classes", [[], ["a", "a"]])
def test_label_encoder_rejects_empty_or_repeated_classes(classes):
    with pytest.raises(ValueError, match="expected a non-empty list of distinct class names"):
        LabelEncoder(classes)


def test_label_encoder_decode_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"expected class indices in \[0, 1\], got 2"):
        LabelEncoder(["neg", "pos"]).decode([2])
