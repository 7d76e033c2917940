"""Train and use the course's PReLU text classifier in one call, or from the command line.

Python::

    result = train_classifier("es", seed=0)       # or train_classifier(data="my.csv")
    result.test_metrics["accuracy"], result.predict(["¡Qué buen servicio!"])

Command line (also installed as ``lossfns-classifier``)::

    python -m lossfns.classifier train --lang es --save model.pt
    python -m lossfns.classifier train --data my.csv --text-column review --label-column stars \
        --encoding latin-1 --delimiter ";"
    python -m lossfns.classifier predict --model model.pt "La sopa estaba fría"
    python -m lossfns.classifier predict --lang en "Great value, will come back"

Errors print one line (``error: ...``) and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from . import metrics
from .data.loader import LabelledTexts, load_corpus, read_labelled_csv
from .data.split import Split, stratified_split
from .functional import softmax
from .models.prelu_classifier import ACTIVATIONS, PReLUClassifier
from .text.vectorizer import LabelEncoder, TextVectorizer
from .text.vocabulary import Vocabulary
from .training import History, deterministic, train

__all__ = ["DEFAULTS", "ClassifierResult", "main", "train_classifier"]

#: Hyperparameters chosen by 5-fold cross-validation on the train+validation rows of the
#: shipped corpora (split seed 0; the test rows were not used), the same for both languages.
#: ``activation`` is not tuned: 'prelu' is the course's model, 'relu' and 'linear' are baselines.
DEFAULTS = {
    "min_freq": 1, "truncate": 5, "numbers": "map", "hidden": 16, "dropout": 0.5, "per_channel": True,
    "epochs": 30, "batch_size": 32, "lr": 3e-3, "weight_decay": 1e-2, "optimizer": "adam",
    "activation": "prelu",
}

_FORMAT = "lossfns-prelu-classifier"


@dataclass
class ClassifierResult:
    """A trained classifier with everything needed to evaluate, plot, save and use it.

    Attributes:
        model: the trained :class:`PReLUClassifier` (in eval mode).
        vectorizer: the fitted :class:`TextVectorizer` (its ``vocabulary`` came from the train rows).
        classes: class names; class index k means ``classes[k]``.
        history: per-epoch train/validation loss and accuracy.
        split: the row indices used for train / validation / test (``None`` for a loaded model).
        test_metrics: on the test rows: ``accuracy``, ``macro_f1``, ``majority_accuracy``
            (share of the most frequent class in the test rows), ``confusion_matrix``
            (nested lists, rows = true class), ``n`` (number of test rows).
        config: the hyperparameters and seed used.
        lang: language of the data (``'es'`` or ``'en'``; for a custom CSV, what the caller said).
    """

    model: PReLUClassifier
    vectorizer: TextVectorizer
    classes: list[str]
    history: History
    split: Split | None
    test_metrics: dict
    config: dict
    lang: str = "es"
    _labels: LabelEncoder = field(init=False, repr=False)

    def __post_init__(self):
        self._labels = LabelEncoder(self.classes)

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary the inputs are encoded with."""
        return self.vectorizer.vocabulary

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> torch.Tensor:
        """Class probabilities (N, C) (softmax of the logits), columns in ``classes`` order."""
        self.model.eval()
        return softmax(self.model(self.vectorizer(texts)), dim=1)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Most probable class name for every text.

        Example:
            >>> result = train_classifier("en", epochs=2)
            >>> result.predict(["Terrible service, never again."])[0] in result.classes
            True
        """
        return self._labels.decode(self.predict_proba(texts).argmax(dim=1))

    def save(self, path) -> None:
        """Write model weights, vocabulary, classes, config and metrics to ``path`` (``torch.save``)."""
        torch.save({
            "format": _FORMAT, "version": 1, "state_dict": self.model.state_dict(),
            "vectorizer": self.vectorizer.config, "classes": self.classes, "config": self.config,
            "history": self.history.as_dict(), "test_metrics": self.test_metrics, "lang": self.lang,
        }, path)

    @classmethod
    def load(cls, path) -> ClassifierResult:
        """Read a classifier written by :meth:`save` (with ``torch.load(weights_only=True)``).

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not a saved lossfns classifier.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"expected a model file saved with --save / result.save at '{path}', "
                                    f"got no such file")
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 (torch.load raises many types on foreign files)
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ValueError(f"expected a model file saved by lossfns (result.save or --save), got a file "
                             f"torch cannot read: '{path}' ({first})") from None
        if not isinstance(saved, dict) or saved.get("format") != _FORMAT:
            raise ValueError(f"expected a model file saved by lossfns (result.save or --save), got another "
                             f"kind of file: '{path}'")
        config, vectorizer = saved["config"], TextVectorizer.from_config(saved["vectorizer"])
        model = PReLUClassifier(len(vectorizer.vocabulary), config["hidden"], len(saved["classes"]),
                                dropout=config["dropout"], per_channel=config["per_channel"],
                                activation=config.get("activation", "prelu"))
        model.load_state_dict(saved["state_dict"])
        model.eval()
        history = History(**{k: v for k, v in saved["history"].items() if k != "seconds"})
        return cls(model, vectorizer, saved["classes"], history, None, saved["test_metrics"], config,
                   saved["lang"])


def _load_data(lang: str, data, **csv_options) -> LabelledTexts:
    if data is None:
        return load_corpus(lang)
    if isinstance(data, LabelledTexts):
        return data
    return read_labelled_csv(data, **csv_options)


def train_classifier(lang: str = "es", *, data=None, text_column: str = "text", label_column: str = "label",
                     encoding: str = "utf-8", delimiter: str = ",", seed: int = 0, split_seed: int = 0,
                     fractions: tuple[float, float, float] = (0.7, 0.15, 0.15), num_threads: int | None = 1,
                     verbose: bool = False, loss_fn: Callable | None = None,
                     **hyperparameters) -> ClassifierResult:
    r"""Split, vectorize, train and evaluate the PReLU classifier on a labelled corpus.

    Pipeline: stratified split (train / validation / test) → vocabulary from the train texts
    only → multi-hot vectors → :class:`PReLUClassifier` trained with
    ``lossfns.functional.cross_entropy`` → metrics on the untouched test rows.

    Args:
        lang: ``'es'`` or ``'en'``: the shipped corpus to use when ``data`` is ``None``
            (with ``data`` it only labels the result, e.g. for plots).
        data: a CSV path (read with :func:`read_labelled_csv`) or a :class:`LabelledTexts`;
            ``None`` uses the shipped corpus of ``lang``.
        text_column, label_column, encoding, delimiter: passed to :func:`read_labelled_csv`.
        seed: seed of the weight initialisation, shuffling and dropout.
        split_seed: seed of the train / validation / test split.
        fractions: train, validation, test fractions of the split.
        num_threads: CPU threads while training. The default 1 is the fastest for these small
            matrices (threads cost more to synchronise than they save) and gives the same numbers
            on every machine; ``None`` keeps torch's setting.
        verbose: print a training progress line.
        loss_fn: replaces ``lossfns.functional.cross_entropy`` (used by the benchmark).
        **hyperparameters: any of :data:`DEFAULTS` (``min_freq``, ``truncate``, ``numbers``,
            ``hidden``, ``dropout``, ``per_channel``, ``epochs``, ``batch_size``, ``lr``,
            ``weight_decay``, ``optimizer``, ``activation``).

    Returns:
        A :class:`ClassifierResult`.

    Raises:
        ValueError: unknown hyperparameter, unreadable data (see :func:`read_labelled_csv`),
            or an option out of range.
        FileNotFoundError: ``data`` names a missing file.

    Example:
        >>> result = train_classifier("es", epochs=2)
        >>> result.classes
        ['negativo', 'neutro', 'positivo']
        >>> sorted(result.test_metrics)
        ['accuracy', 'confusion_matrix', 'macro_f1', 'majority_accuracy', 'n']
    """
    unknown = sorted(set(hyperparameters) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"expected hyperparameters among {sorted(DEFAULTS)}, got unknown {unknown}")
    config = {**DEFAULTS, **hyperparameters, "seed": seed, "split_seed": split_seed,
              "fractions": list(fractions)}
    corpus = _load_data(lang, data, text_column=text_column, label_column=label_column, encoding=encoding,
                        delimiter=delimiter)
    split = stratified_split(corpus.labels, fractions=fractions, seed=split_seed)
    train_rows, val_rows, test_rows = (corpus.subset(p) for p in (split.train, split.validation, split.test))
    vectorizer = TextVectorizer.fit(train_rows.texts, min_freq=config["min_freq"], numbers=config["numbers"],
                                    truncate=config["truncate"])
    labels = LabelEncoder(corpus.classes)
    with deterministic(seed, num_threads=num_threads):
        model = PReLUClassifier(len(vectorizer.vocabulary), config["hidden"], len(corpus.classes),
                                dropout=config["dropout"], per_channel=config["per_channel"],
                                activation=config["activation"])
    validation = (vectorizer(val_rows.texts), labels.encode(val_rows.labels)) if len(val_rows) else None
    history = train(model, vectorizer(train_rows.texts), labels.encode(train_rows.labels),
                    validation=validation, epochs=config["epochs"], batch_size=config["batch_size"],
                    lr=config["lr"], weight_decay=config["weight_decay"], optimizer=config["optimizer"],
                    seed=seed, num_threads=num_threads, loss_fn=loss_fn, verbose=verbose, file=sys.stderr)
    test_metrics = {}
    if len(test_rows):
        with torch.no_grad():
            logits = model(vectorizer(test_rows.texts))
        target = labels.encode(test_rows.labels)
        test_metrics = {
            "accuracy": metrics.accuracy(logits, target),
            "macro_f1": metrics.macro_f1(logits, target),
            "majority_accuracy": metrics.majority_accuracy(target),
            "confusion_matrix": metrics.confusion_matrix(logits, target).tolist(),
            "n": len(test_rows),
        }
    return ClassifierResult(model, vectorizer, list(corpus.classes), history, split, test_metrics, config,
                            lang)


_MESSAGES = {
    "en": {
        "data": "data: {source} ({n} texts; classes: {classes})",
        "split": "split: {train} train / {val} validation / {test} test (split seed {seed})",
        "accuracy": "test accuracy: {acc:.3f} (majority-class baseline {maj:.3f})",
        "f1": "test macro-F1: {f1:.3f}",
        "matrix": "confusion matrix (rows = true class, columns = predicted class):",
        "saved": "saved the model to {path}",
        "shipped": "shipped '{lang}' corpus",
        "quick": "no --model given, so a model is trained first on: {source} (seed {seed})",
    },
    "es": {
        "data": "datos: {source} ({n} textos; clases: {classes})",
        "split": "partición: {train} entrenamiento / {val} validación / {test} prueba (semilla {seed})",
        "accuracy": "exactitud en prueba: {acc:.3f} (línea base de la clase mayoritaria {maj:.3f})",
        "f1": "F1 macro en prueba: {f1:.3f}",
        "matrix": "matriz de confusión (filas = clase real, columnas = clase predicha):",
        "saved": "modelo guardado en {path}",
        "shipped": "corpus '{lang}' incluido en el paquete",
        "quick": "no se indicó --model, así que primero se entrena un modelo con: {source} (semilla {seed})",
    },
}


def _format_matrix(matrix: list[list[int]], classes: list[str]) -> str:
    width = max(len(str(v)) for row in matrix for v in row)
    col = max(width, *(len(c) for c in classes))
    head = max(len(c) for c in classes)
    lines = [" " * head + "".join(f"  {c:>{col}}" for c in classes)]
    lines += [f"{name:<{head}}" + "".join(f"  {v:>{col}}" for v in row) for name, row in zip(classes, matrix)]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lossfns-classifier",
                                     description="Train or use the PReLU text classifier of the course.")
    commands = parser.add_subparsers(dest="command", required=True)
    data_options = argparse.ArgumentParser(add_help=False)
    data_options.add_argument("--lang", choices=["es", "en"], default="es",
                              help="shipped corpus and language of the messages (default: es)")
    data_options.add_argument("--data", help="your own CSV with a text and a label column")
    data_options.add_argument("--text-column", default="text")
    data_options.add_argument("--label-column", default="label")
    data_options.add_argument("--encoding", default="utf-8", help="e.g. latin-1 or cp1252 (default: utf-8)")
    data_options.add_argument("--delimiter", default=",", help="field separator of --data (default: ,)")
    data_options.add_argument("--seed", type=int, default=0)
    data_options.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    data_options.add_argument("--hidden", type=int, default=DEFAULTS["hidden"])
    data_options.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    data_options.add_argument("--dropout", type=float, default=DEFAULTS["dropout"])
    data_options.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    data_options.add_argument("--min-freq", type=int, default=DEFAULTS["min_freq"])
    data_options.add_argument("--activation", choices=list(ACTIVATIONS), default=DEFAULTS["activation"],
                              help="hidden activation (default: prelu; relu and linear are baselines)")
    data_options.add_argument("--quiet", action="store_true", help="no progress line")
    train_cmd = commands.add_parser("train", parents=[data_options], help="train, print test metrics")
    train_cmd.add_argument("--save", help="write the trained model to this file")
    predict_cmd = commands.add_parser("predict", parents=[data_options], help="classify texts")
    predict_cmd.add_argument("--model", help="a model written by 'train --save' (else train one first)")
    predict_cmd.add_argument("texts", nargs="+", help="texts to classify")
    return parser


def _train_from_args(args) -> ClassifierResult:
    return train_classifier(args.lang, data=args.data, text_column=args.text_column,
                            label_column=args.label_column, encoding=args.encoding, delimiter=args.delimiter,
                            seed=args.seed,
                            verbose=not args.quiet, epochs=args.epochs, hidden=args.hidden, lr=args.lr,
                            dropout=args.dropout, weight_decay=args.weight_decay, min_freq=args.min_freq,
                            activation=args.activation)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 success, 2 error)."""
    args = _parser().parse_args(argv)
    text = _MESSAGES[args.lang]
    source = args.data or text["shipped"].format(lang=args.lang)
    try:
        if args.command == "train":
            result = _train_from_args(args)
            split, m = result.split, result.test_metrics
            sizes = {"train": len(split.train), "val": len(split.validation), "test": len(split.test)}
            classes = ", ".join(result.classes)
            print(text["data"].format(source=source, n=sum(sizes.values()), classes=classes))
            print(text["split"].format(**sizes, seed=result.config["split_seed"]))
            print(text["accuracy"].format(acc=m["accuracy"], maj=m["majority_accuracy"]))
            print(text["f1"].format(f1=m["macro_f1"]))
            print(text["matrix"])
            print(_format_matrix(m["confusion_matrix"], result.classes))
            if args.save:
                result.save(args.save)
                print(text["saved"].format(path=args.save))
        else:
            if args.model:
                result = ClassifierResult.load(args.model)
            else:
                print(text["quick"].format(source=source, seed=args.seed), file=sys.stderr)
                result = _train_from_args(args)
            probabilities = result.predict_proba(args.texts)
            for text_, row in zip(args.texts, probabilities):
                k = int(row.argmax())
                print(f"{result.classes[k]}\t{float(row[k]):.2f}\t{text_}")
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
