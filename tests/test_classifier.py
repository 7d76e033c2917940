"""Tests for lossfns.classifier: quality on the shipped corpora, the result object, and the CLI."""

import subprocess
import sys

import pytest
import torch

from lossfns.classifier import DEFAULTS, ClassifierResult, main, train_classifier
from lossfns.data.loader import load_corpus
from lossfns.text.tokenizer import tokenize


def latin1_rows(lang):
    """(text, label) pairs of a shipped corpus that a latin-1 CSV can hold, quoted for ';' files."""
    corpus = load_corpus(lang)
    return [(t.replace('"', "'"), lab) for t, lab in zip(corpus.texts, corpus.labels)
            if t.encode("latin-1", errors="ignore").decode("latin-1") == t]


@pytest.fixture(scope="module", params=["es", "en"])
def trained(request):
    return train_classifier(request.param, seed=0)


def test_classifier_quality_on_held_out_test_split(trained):
    m = trained.test_metrics
    assert m["n"] >= 50
    assert m["accuracy"] >= m["majority_accuracy"] + 0.25, m
    assert m["macro_f1"] >= 0.6, m


def test_classifier_test_metrics_are_consistent_with_the_split(trained):
    corpus = load_corpus(trained.lang)
    test = corpus.subset(trained.split.test)
    predictions = trained.predict(test.texts)
    assert trained.test_metrics["accuracy"] == pytest.approx(
        sum(p == t for p, t in zip(predictions, test.labels)) / len(test))
    matrix = torch.tensor(trained.test_metrics["confusion_matrix"])
    hits = sum(p == t for p, t in zip(predictions, test.labels))
    assert matrix.sum() == len(test) and matrix.trace() == hits


def test_classifier_vocabulary_comes_from_training_texts_only(trained):
    corpus = load_corpus(trained.lang)
    options = {"numbers": DEFAULTS["numbers"], "truncate": DEFAULTS["truncate"]}
    train_tokens = {t for i in trained.split.train for t in tokenize(corpus.texts[i], **options)}
    # min_freq=1: every training token, and nothing else
    assert set(trained.vocabulary.tokens[1:]) == train_tokens


def test_classifier_predict_and_probabilities(trained):
    texts = ["", "algo cualquiera", "something else"]
    probabilities = trained.predict_proba(texts)
    assert probabilities.shape == (3, len(trained.classes))
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(3))
    assert trained.predict(texts) == [trained.classes[k] for k in probabilities.argmax(dim=1)]


def test_classifier_training_is_reproducible():
    a = train_classifier("en", seed=4, epochs=5)
    b = train_classifier("en", seed=4, epochs=5)
    assert a.history == b.history and a.test_metrics == b.test_metrics
    assert train_classifier("en", seed=5, epochs=5).history != a.history


def test_classifier_under_ten_seconds_per_language():
    for lang in ("es", "en"):
        assert train_classifier(lang).history.seconds < 10


def test_classifier_trains_on_a_teachers_csv(tmp_path):
    path = tmp_path / "profe.csv"
    rows = ["comentario;etiqueta"] + [f'"{t}";{lab}' for t, lab in latin1_rows("es")]
    path.write_text("\n".join(rows), encoding="latin-1")
    result = train_classifier("es", data=path, text_column="comentario", label_column="etiqueta",
                              encoding="latin-1", delimiter=";", epochs=3)
    assert result.classes == ["negativo", "neutro", "positivo"]
    assert result.test_metrics["n"] == len(result.split.test)
    with pytest.raises(ValueError, match="try delimiter=';'"):
        train_classifier(data=path, text_column="comentario", label_column="etiqueta", encoding="latin-1")


def test_classifier_trains_on_a_csv_path(tmp_path):
    corpus = load_corpus("en")
    path = tmp_path / "mine.csv"
    quoted = ('"' + t.replace('"', '""') + '"' for t in corpus.texts)
    lines = ["review,stars"] + [f"{t},{lab}" for t, lab in zip(quoted, corpus.labels)]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = train_classifier("en", data=str(path), text_column="review", label_column="stars", epochs=2)
    assert result.classes == corpus.classes


def test_classifier_rejects_unknown_hyperparameter():
    with pytest.raises(ValueError, match=r"expected hyperparameters among .* got unknown \['hiden'\]"):
        train_classifier("en", hiden=4)


def test_classifier_rejects_unknown_language():
    with pytest.raises(ValueError, match=r"expected lang in \['en', 'es'\], got 'pt'"):
        train_classifier("pt")


def test_classifier_save_and_load_round_trip(tmp_path, trained):
    path = tmp_path / "model.pt"
    trained.save(path)
    loaded = ClassifierResult.load(path)
    texts = load_corpus(trained.lang).texts[:20]
    torch.testing.assert_close(loaded.predict_proba(texts), trained.predict_proba(texts), rtol=0, atol=0)
    assert loaded.classes == trained.classes and loaded.test_metrics == trained.test_metrics
    assert loaded.history == trained.history and loaded.lang == trained.lang
    assert loaded.split is None


def test_classifier_baseline_activation_is_trained_saved_and_loaded(tmp_path):
    result = train_classifier("en", seed=0, epochs=2, activation="relu")
    assert result.model.activation_name == "relu" and result.config["activation"] == "relu"
    path = tmp_path / "relu.pt"
    result.save(path)
    loaded = ClassifierResult.load(path)
    assert loaded.model.activation_name == "relu"
    texts = load_corpus("en").texts[:10]
    torch.testing.assert_close(loaded.predict_proba(texts), result.predict_proba(texts), rtol=0, atol=0)


def test_classifier_default_activation_is_prelu():
    assert DEFAULTS["activation"] == "prelu"
    assert train_classifier("es", epochs=1).model.activation_name == "prelu"


def test_cli_activation_option(capsys):
    assert main(["train", "--lang", "en", "--epochs", "2", "--quiet", "--activation", "linear"]) == 0
    assert "test accuracy: " in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--activation", "tanh"])


def test_classifier_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected a model file .* got no such file"):
        ClassifierResult.load(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_text("not a model")
    with pytest.raises(ValueError, match="got a file torch cannot read"):
        ClassifierResult.load(garbage)
    csv_file = tmp_path / "data.csv"  # a teacher's CSV passed as --model by mistake
    csv_file.write_text("text,label\n" + "hola,positivo\n" * 40)
    with pytest.raises(ValueError, match="got a file torch cannot read"):
        ClassifierResult.load(csv_file)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match="got another kind of file"):
        ClassifierResult.load(other)


def test_cli_train_prints_metrics_and_saves(tmp_path, capsys):
    path = tmp_path / "model.pt"
    assert main(["train", "--lang", "en", "--epochs", "3", "--quiet", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "test accuracy: " in out and "majority-class baseline 0.333" in out
    assert "test macro-F1: " in out and "confusion matrix (rows = true class" in out
    assert "negative" in out and path.exists()


def test_cli_train_spanish_messages(capsys):
    assert main(["train", "--lang", "es", "--epochs", "2", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "exactitud en prueba" in captured.out and "matriz de confusión" in captured.out
    assert captured.err == ""


def test_cli_progress_goes_to_stderr(capsys):
    assert main(["train", "--lang", "en", "--epochs", "2"]) == 0
    captured = capsys.readouterr()
    assert "epoch 2/2" in captured.err and "epoch" not in captured.out


def test_cli_predict_with_saved_model(tmp_path, capsys, trained):
    path = tmp_path / "model.pt"
    trained.save(path)
    texts = ["Excelente, me encantó", "Terrible, never again"]
    assert main(["predict", "--model", str(path), *texts]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, text, expected in zip(lines, texts, trained.predict(texts)):
        label, probability, echoed = line.split("\t")
        assert label == expected and echoed == text and 0 < float(probability) <= 1


def test_cli_predict_without_model_trains_first(capsys):
    text = "La comida estaba fría y tardaron una hora"
    assert main(["predict", "--lang", "es", "--epochs", "3", "--quiet", text]) == 0
    captured = capsys.readouterr()
    assert captured.out.split("\t")[0] in ("negativo", "neutro", "positivo")
    assert "primero se entrena un modelo" in captured.err  # told in Spanish that it trains first


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "no/such/file.csv", "--quiet"],
     "error: expected a CSV file at 'no/such/file.csv', got no such file"),
    (["predict", "--model", "no/such/model.pt", "hola"], "error: expected a model file"),
    (["train", "--epochs", "0", "--quiet"], "error: expected epochs to be an int >= 1, got 0"),
])
def test_cli_errors_print_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_cli_bad_csv_reports_columns(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("review,stars\ngood,5\nbad,1\n", encoding="utf-8")
    assert main(["train", "--data", str(path), "--quiet"]) == 2
    assert "got columns ['review', 'stars']" in capsys.readouterr().err


def test_cli_train_on_teachers_csv_with_options(tmp_path, capsys):
    path = tmp_path / "profe.csv"
    rows = ["id;reseña;clase"] + [f'{i};"{t}";{lab}' for i, (t, lab) in enumerate(latin1_rows("es"))]
    path.write_text("\n".join(rows), encoding="latin-1")
    argv = ["train", "--data", str(path), "--text-column", "reseña", "--label-column", "clase",
            "--encoding", "latin-1", "--delimiter", ";", "--epochs", "2", "--quiet"]
    assert main(argv) == 0
    assert f"datos: {path}" in capsys.readouterr().out


def test_cli_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fly"])
    assert exit_info.value.code == 2


def test_cli_runs_as_module():
    command = [sys.executable, "-m", "lossfns.classifier", "predict", "--lang", "en", "--epochs", "2",
               "--quiet"]
    done = subprocess.run([*command, "Fine."], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\t")[0] in ("negative", "neutral", "positive")
    failed = subprocess.run([sys.executable, "-m", "lossfns.classifier", "train", "--data", "missing.csv"],
                            check=False, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2 and failed.stderr.startswith("error: ") and "Traceback" not in failed.stderr
