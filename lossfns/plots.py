"""Figures for the text-classifier chapter, labelled in Spanish or English.

Every function returns a ``matplotlib.figure.Figure`` built without ``pyplot``: it needs no
display (it draws with the Agg canvas), does not pile up in pyplot's figure list, and is shown
by Jupyter when it is the last value of a cell. Save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from matplotlib.figure import Figure

__all__ = ["plot_confusion_matrix", "plot_learning_curves", "plot_prelu_slopes"]

_TEXT = {
    "en": {
        "epoch": "epoch", "loss": "cross-entropy loss", "accuracy": "accuracy", "train": "train",
        "validation": "validation", "curves": "Learning curves",
        "true": "true class", "predicted": "predicted class", "confusion": "Confusion matrix",
        "activations": "ReLU, LeakyReLU and learned PReLU", "slopes": "Learned PReLU slopes",
        "slope": "slope a (negative side)", "units": "hidden units", "init": "initial value",
        "learned": "learned PReLU", "median": "median", "unit": "hidden unit",
    },
    "es": {
        "epoch": "época", "loss": "pérdida de entropía cruzada", "accuracy": "exactitud",
        "train": "entrenamiento", "validation": "validación", "curves": "Curvas de aprendizaje",
        "true": "clase real", "predicted": "clase predicha", "confusion": "Matriz de confusión",
        "activations": "ReLU, LeakyReLU y PReLU aprendida", "slopes": "Pendientes PReLU aprendidas",
        "slope": "pendiente a (lado negativo)", "units": "unidades ocultas", "init": "valor inicial",
        "learned": "PReLU aprendida", "median": "mediana", "unit": "unidad oculta",
    },
}


def _text(lang: str) -> dict:
    if lang not in _TEXT:
        raise ValueError(f"expected lang in {sorted(_TEXT)}, got {lang!r}")
    return _TEXT[lang]


def _get(history, name: str) -> list[float]:
    return list(history[name] if isinstance(history, dict) else getattr(history, name))


def plot_learning_curves(history, *, lang: str = "es") -> Figure:
    """Loss and accuracy per epoch for train and (if recorded) validation, side by side.

    Args:
        history: a ``lossfns.training.History`` or a dict with ``train_loss``, ``train_accuracy``
            and optionally non-empty ``val_loss``, ``val_accuracy``.
        lang: ``'es'`` or ``'en'`` for the labels.

    Returns:
        A Figure with two axes (loss, accuracy).

    Raises:
        ValueError: unknown ``lang`` or an empty history.

    Example:
        >>> fig = plot_learning_curves({"train_loss": [1.0, 0.5], "train_accuracy": [0.4, 0.8],
        ...                             "val_loss": [1.1, 0.9], "val_accuracy": [0.3, 0.6]}, lang="en")
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['cross-entropy loss', 'accuracy']
    """
    text = _text(lang)
    train_loss = _get(history, "train_loss")
    if not train_loss:
        raise ValueError("expected a history with at least one epoch, got an empty one")
    epochs = range(1, len(train_loss) + 1)
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        ax.plot(epochs, _get(history, f"train_{key}"), label=text["train"])
        val = _get(history, f"val_{key}")
        if val:
            ax.plot(range(1, len(val) + 1), val, label=text["validation"], linestyle="--")
        ax.set_xlabel(text["epoch"])
        ax.set_ylabel(text[key])
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(text["curves"])
    return fig


def plot_confusion_matrix(matrix, class_names: Sequence[str], *, lang: str = "es",
                          normalize: bool = False) -> Figure:
    """Heat map of a confusion matrix (rows = true class, columns = predicted class) with counts.

    Args:
        matrix: (C, C) counts (tensor or nested lists), as from ``lossfns.metrics.confusion_matrix``.
        class_names: the C class names, in index order.
        lang: ``'es'`` or ``'en'`` for the labels.
        normalize: colour and annotate each row as a fraction of its true class.

    Returns:
        A Figure with one axis.

    Raises:
        ValueError: ``matrix`` is not square or does not match ``class_names``; unknown ``lang``.

    Example:
        >>> fig = plot_confusion_matrix([[5, 1], [2, 4]], ["neg", "pos"], lang="en")
        >>> fig.axes[0].get_xlabel(), [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ('predicted class', ['neg', 'pos'])
    """
    text = _text(lang)
    matrix = torch.as_tensor(matrix).double()
    c = len(class_names)
    if matrix.dim() != 2 or matrix.shape != (c, c):
        raise ValueError(f"expected a ({c}, {c}) matrix for {c} class names, got shape {tuple(matrix.shape)}")
    values = matrix / matrix.sum(dim=1, keepdim=True).clamp(min=1) if normalize else matrix
    fig = Figure(figsize=(1.2 * c + 2.5, 1.1 * c + 1.5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values.numpy(), cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax)
    threshold = float(values.max()) / 2
    for i in range(c):
        for j in range(c):
            label = f"{float(values[i, j]):.2f}" if normalize else f"{int(matrix[i, j])}"
            ax.text(j, i, label, ha="center", va="center",
                    color="white" if float(values[i, j]) > threshold else "black")
    ax.set_xticks(range(c), list(class_names), rotation=30, ha="right")
    ax.set_yticks(range(c), list(class_names))
    ax.set_xlabel(text["predicted"])
    ax.set_ylabel(text["true"])
    ax.set_title(text["confusion"])
    return fig


def plot_prelu_slopes(slopes, *, lang: str = "es", leaky_slope: float = 0.01, init: float = 0.25) -> Figure:
    r"""The learned PReLU slopes next to ReLU and LeakyReLU.

    Left: the activation functions on [-3, 3]: ReLU (:math:`a = 0`), LeakyReLU (:math:`a` =
    ``leaky_slope``) and PReLU with the learned slope (one line per hidden unit for per-channel
    slopes, the median in bold). Right: the learned slope of every hidden unit as bars, with the
    initial value and the ReLU/LeakyReLU slopes as reference lines.

    Args:
        slopes: learned slopes, shape (H,) or (1,), e.g. ``PReLUClassifier.slopes``.
        lang: ``'es'`` or ``'en'`` for the labels.
        leaky_slope: the LeakyReLU slope drawn for comparison (torch's default 0.01).
        init: the slopes' initial value, drawn as a reference (torch's default 0.25).

    Returns:
        A Figure with two axes.

    Raises:
        ValueError: ``slopes`` is empty; unknown ``lang``.

    Example:
        >>> import torch
        >>> fig = plot_prelu_slopes(torch.tensor([0.1, 0.3, -0.2]), lang="en")
        >>> [ax.get_title() for ax in fig.axes]
        ['ReLU, LeakyReLU and learned PReLU', 'Learned PReLU slopes']
    """
    text = _text(lang)
    slopes = torch.as_tensor(slopes).detach().double().reshape(-1)
    if slopes.numel() == 0:
        raise ValueError("expected at least one slope, got an empty tensor")
    x = torch.linspace(-3, 3, 121, dtype=torch.float64)
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    for a in slopes.tolist():
        left.plot(x, x.clamp(min=0) + a * x.clamp(max=0), color="tab:orange", alpha=0.25, linewidth=0.8)
    median = float(slopes.median())
    left.plot(x, x.clamp(min=0) + median * x.clamp(max=0), color="tab:orange", linewidth=2.5,
              label=f"{text['learned']} ({text['median']} a = {median:.3f})" if slopes.numel() > 1
              else f"{text['learned']} (a = {median:.3f})")
    left.plot(x, x.clamp(min=0), color="black", linewidth=1.5, label="ReLU (a = 0)")
    left.plot(x, x.clamp(min=0) + leaky_slope * x.clamp(max=0), color="tab:blue", linestyle="--",
              label=f"LeakyReLU (a = {leaky_slope:g})")
    left.axhline(0, color="grey", linewidth=0.5)
    left.axvline(0, color="grey", linewidth=0.5)
    left.set_xlabel("x")
    left.set_ylabel("f(x)")
    left.set_title(text["activations"])
    left.legend(fontsize="small")
    left.grid(alpha=0.3)
    order = torch.argsort(slopes)
    right.bar(range(slopes.numel()), slopes[order].numpy(), color="tab:orange")
    right.axhline(init, color="grey", linestyle=":", label=f"{text['init']} ({init:g})")
    right.axhline(leaky_slope, color="tab:blue", linestyle="--", label=f"LeakyReLU ({leaky_slope:g})")
    right.axhline(0, color="black", linewidth=1, label="ReLU (0)")
    right.set_xlabel(f"{text['units']} ({'sorted by slope' if lang == 'en' else 'ordenadas por pendiente'})")
    right.set_ylabel(text["slope"])
    right.set_title(text["slopes"])
    right.legend(fontsize="small")
    right.grid(alpha=0.3, axis="y")
    return fig
