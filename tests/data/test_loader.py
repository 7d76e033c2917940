"""Tests for lossfns.data.loader: reading labelled CSVs and the shipped corpora."""

import csv
import io

import pytest

from lossfns.data.loader import LabelledTexts, available_corpora, load_corpus, read_labelled_csv


def write(tmp_path, content, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def test_read_labelled_csv_reads_texts_labels_and_sorted_classes(tmp_path):
    content = 'text,label\n"Muy bueno, gracias",positivo\nMalo,negativo\n"Dice ""hola""",neutro\n'
    path = write(tmp_path, content)
    data = read_labelled_csv(path)
    assert data.texts == ["Muy bueno, gracias", "Malo", 'Dice "hola"']
    assert data.labels == ["positivo", "negativo", "neutro"]
    assert data.classes == ["negativo", "neutro", "positivo"]
    assert data.targets == [2, 0, 1]
    assert len(data) == 3


def test_read_labelled_csv_classes_do_not_depend_on_row_order(tmp_path):
    a = read_labelled_csv(write(tmp_path, "text,label\nx,b\ny,a\n", "a.csv"))
    b = read_labelled_csv(write(tmp_path, "text,label\ny,a\nx,b\n", "b.csv"))
    assert a.classes == b.classes == ["a", "b"]


def test_read_labelled_csv_strips_whitespace_and_skips_blank_lines(tmp_path):
    data = read_labelled_csv(write(tmp_path, "text,label\n  hola  , pos \n\n adiós ,neg\n\n"))
    assert data.texts == ["hola", "adiós"]
    assert data.labels == ["pos", "neg"]


def test_read_labelled_csv_teacher_file_with_other_columns_and_latin1(tmp_path):
    content = ("id;reseña;clase;fecha\n"
               "1;Excelente atención, volveré;bueno;2024\n2;Pésimo café;malo;2024\n")
    path = write(tmp_path, content, encoding="latin-1")
    data = read_labelled_csv(path, text_column="reseña", label_column="clase", encoding="latin-1",
                             delimiter=";")
    assert data.texts == ["Excelente atención, volveré", "Pésimo café"]
    assert data.classes == ["bueno", "malo"]


def test_read_labelled_csv_ignores_utf8_byte_order_mark(tmp_path):
    data = read_labelled_csv(write(tmp_path, "\ufefftext,label\nsí,a\nno,b\n"))
    assert data.texts == ["sí", "no"]


def test_read_labelled_csv_multiline_quoted_text(tmp_path):
    data = read_labelled_csv(write(tmp_path, 'text,label\n"line one\nline two",a\nz,b\n'))
    assert data.texts[0] == "line one\nline two"


def test_read_labelled_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected a CSV file at .*nope.csv', got no such file"):
        read_labelled_csv(tmp_path / "nope.csv")


def test_read_labelled_csv_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="got a directory"):
        read_labelled_csv(tmp_path)


def test_read_labelled_csv_wrong_encoding_names_it_and_suggests_latin1(tmp_path):
    path = write(tmp_path, "text,label\nPésimo,malo\nBueno,bueno\n", encoding="latin-1")
    message = r"expected a file encoded as 'utf-8', got byte 0xe9 .*encoding='latin-1'"
    with pytest.raises(ValueError, match=message):
        read_labelled_csv(path)


def test_read_labelled_csv_unknown_encoding_name(tmp_path):
    with pytest.raises(ValueError, match="expected a known text encoding .* got encoding='utf-9'"):
        read_labelled_csv(write(tmp_path, "text,label\n"), encoding="utf-9")


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_read_labelled_csv_empty_file(tmp_path, content):
    with pytest.raises(ValueError, match="expected a header row .* got an empty file"):
        read_labelled_csv(write(tmp_path, content))


def test_read_labelled_csv_missing_column_lists_columns_found(tmp_path):
    path = write(tmp_path, "review,stars\ngood,5\nbad,1\n")
    message = r"expected columns 'text' and 'label' .*got columns \['review', 'stars'\]"
    with pytest.raises(ValueError, match=message):
        read_labelled_csv(path)


def test_read_labelled_csv_semicolon_file_suggests_delimiter(tmp_path):
    with pytest.raises(ValueError, match="try delimiter=';'"):
        read_labelled_csv(write(tmp_path, "text;label\nbueno;pos\nmalo;neg\n"))


def test_read_labelled_csv_header_only(tmp_path):
    with pytest.raises(ValueError, match="expected at least one data row after the header .* got none"):
        read_labelled_csv(write(tmp_path, "text,label\n"))


def test_read_labelled_csv_single_class(tmp_path):
    with pytest.raises(ValueError, match="expected at least 2 distinct labels .* got only 'pos'"):
        read_labelled_csv(write(tmp_path, "text,label\na,pos\nb,pos\n"))


@pytest.mark.parametrize("row, column", [(",pos", "text"), ("hola,", "label"), ("   ,pos", "text"),
                                         ("solo", "label")])
def test_read_labelled_csv_empty_value_reports_row_number(tmp_path, row, column):
    path = write(tmp_path, f"text,label\nbien,pos\nmal,neg\n{row}\n")
    with pytest.raises(ValueError, match=f"expected a non-empty '{column}' in row 4 "):
        read_labelled_csv(path)


def test_read_labelled_csv_unquoted_comma_gives_too_many_fields(tmp_path):
    message = "expected at most 2 fields in row 3 .* got 3; put texts that contain ','"
    with pytest.raises(ValueError, match=message):
        read_labelled_csv(write(tmp_path, "text,label\nbien,pos\nmal, muy mal,neg\n"))


def test_labelled_texts_rejects_mismatched_lengths_and_unknown_labels():
    with pytest.raises(ValueError, match="expected as many labels as texts, got 2 texts and 1 labels"):
        LabelledTexts(["a", "b"], ["x"])
    message = r"expected every label in classes \['x'\], got unknown labels \['y'\]"
    with pytest.raises(ValueError, match=message):
        LabelledTexts(["a", "b"], ["x", "y"], ["x"])


def test_labelled_texts_subset_keeps_all_classes():
    data = LabelledTexts(["a", "b", "c"], ["x", "y", "z"])
    part = data.subset([2, 0])
    assert part.texts == ["c", "a"] and part.labels == ["z", "x"] and part.classes == ["x", "y", "z"]


def test_available_corpora_are_es_and_en():
    assert available_corpora() == ["en", "es"]


@pytest.mark.parametrize("lang, classes", [("es", ["negativo", "neutro", "positivo"]),
                                           ("en", ["negative", "neutral", "positive"])])
def test_load_corpus_shipped_languages(lang, classes):
    corpus = load_corpus(lang)
    assert corpus.classes == classes
    assert len(corpus) >= 300
    assert all(corpus.texts) and len(set(corpus.texts)) == len(corpus.texts)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_load_corpus_matches_plain_csv_module(lang):
    from importlib.resources import files
    raw = (files("lossfns") / "data" / "corpus" / f"{lang}.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(raw)))
    corpus = load_corpus(lang)
    assert corpus.texts == [r["text"].strip() for r in rows]
    assert corpus.labels == [r["label"].strip() for r in rows]


def test_load_corpus_unknown_language_lists_available():
    with pytest.raises(ValueError, match=r"expected lang in \['en', 'es'\], got 'fr'"):
        load_corpus("fr")


def test_read_labelled_csv_same_column_for_text_and_label_raises(tmp_path):
    path = write(tmp_path, "text,label\nbueno,positivo\nmalo,negativo\n")
    with pytest.raises(ValueError, match="expected different columns for texts and labels, got 'label'"):
        read_labelled_csv(path, text_column="label")
