"""Figures for the text-classifier chapter, labelled in Spanish or English.

Every function returns a ``matplotlib.figure.Figure`` built without ``pyplot``: it needs no
display (it draws with the Agg canvas), does not pile up in pyplot's figure list, and is shown
by Jupyter when it is the last value of a cell. Save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from matplotlib.figure import Figure

__all__ = ["plot_activation_comparison", "plot_confusion_matrix", "plot_learning_curves", "plot_prelu_slopes",
           "plot_slope_history"]

_TEXT = {
    "en": {
        "epoch": "epoch", "loss": "cross-entropy loss", "accuracy": "accuracy", "train": "train",
        "validation": "validation", "curves": "Learning curves",
        "true": "true class", "predicted": "predicted class", "confusion": "Confusion matrix",
        "activations": "ReLU, LeakyReLU and learned PReLU", "slopes": "Learned PReLU slopes",
        "slope": "slope a (negative side)", "units": "hidden units", "init": "initial value",
        "learned": "learned PReLU", "median": "median", "unit": "hidden unit", "sorted": "sorted by slope",
        "linear": "a = 1 (linear)",
        "val_accuracy": "validation accuracy", "training": "training",
        "compare": "Validation curves per activation",
        "spread": "line: mean over {n} seeds; band: lowest to highest",
        "slope_history": "PReLU slopes during training", "range": "range over the units",
        "bound": "{init:g} + lr × steps (Adam moves ≈ lr per step)", "loss_both": "cross-entropy loss",
    },
    "es": {
        "epoch": "época", "loss": "pérdida de entropía cruzada", "accuracy": "exactitud",
        "train": "entrenamiento", "validation": "validación", "curves": "Curvas de aprendizaje",
        "true": "clase real", "predicted": "clase predicha", "confusion": "Matriz de confusión",
        "activations": "ReLU, LeakyReLU y PReLU aprendida", "slopes": "Pendientes PReLU aprendidas",
        "slope": "pendiente a (lado negativo)", "units": "unidades ocultas", "init": "valor inicial",
        "learned": "PReLU aprendida", "median": "mediana", "unit": "unidad oculta",
        "sorted": "ordenadas por pendiente", "linear": "a = 1 (lineal)",
        "val_accuracy": "exactitud de validación",
        "training": "entrenamiento", "compare": "Curvas de validación por activación",
        "spread": "línea: media de {n} semillas; banda: de la menor a la mayor",
        "slope_history": "Pendientes PReLU durante el entrenamiento", "range": "rango entre las unidades",
        "bound": "{init:g} + lr × pasos (Adam avanza ≈ lr por paso)",
        "loss_both": "pérdida de entropía cruzada",
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
    slopes, the median in bold). Right: the learned slope of every hidden unit as bars, with
    :math:`a = 1` (the identity), the initial value and the ReLU/LeakyReLU slopes as reference lines.

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
    right.axhline(1, color="tab:green", linestyle="-.", label=text["linear"])
    right.axhline(init, color="grey", linestyle=":", label=f"{text['init']} ({init:g})")
    right.axhline(leaky_slope, color="tab:blue", linestyle="--", label=f"LeakyReLU ({leaky_slope:g})")
    right.axhline(0, color="black", linewidth=1, label="ReLU (0)")
    right.set_xlabel(f"{text['units']} ({text['sorted']})")
    right.set_ylabel(text["slope"])
    right.set_title(text["slopes"])
    right.legend(fontsize="small")
    right.grid(alpha=0.3, axis="y")
    return fig


def _mean_and_range(runs: Sequence, name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    values = torch.tensor([_get(run, name) for run in runs], dtype=torch.float64)
    return values.mean(dim=0), values.min(dim=0).values, values.max(dim=0).values


def plot_activation_comparison(runs_by_model, *, lang: str = "es") -> Figure:
    """Validation loss and accuracy per epoch of several models, each trained with several seeds.

    Each model gets one colour: its mean validation curve over the runs as a solid line and the
    range (lowest to highest run at every epoch) as a band; on the loss panel a dashed line gives
    its mean training loss.

    Args:
        runs_by_model: ``{name: [history, ...]}``, the name as it should appear in the legend and
            one ``History`` (or dict) per seed, all with the same number of epochs and validation data.
        lang: ``'es'`` or ``'en'`` for the labels.

    Returns:
        A Figure with two axes (training and validation loss, validation accuracy).

    Raises:
        ValueError: no models, a model without runs, runs of different lengths or without
            validation data; unknown ``lang``.

    Example:
        >>> h = {"train_loss": [1.0, 0.5], "train_accuracy": [0.5, 0.8],
        ...      "val_loss": [1.1, 0.9], "val_accuracy": [0.4, 0.6]}
        >>> fig = plot_activation_comparison({"ReLU": [h, h], "PReLU": [h]}, lang="en")
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['cross-entropy loss', 'validation accuracy']
    """
    text = _text(lang)
    if not runs_by_model:
        raise ValueError("expected at least one model with its runs, got none")
    lengths = set()
    for name, runs in runs_by_model.items():
        if not runs:
            raise ValueError(f"expected at least one run of model {name!r}, got none")
        for run in runs:
            if not _get(run, "val_loss"):
                raise ValueError(f"expected runs with validation curves, got one without for {name!r}")
            lengths |= {len(_get(run, key)) for key in ("train_loss", "val_loss", "val_accuracy")}
    if len(lengths) != 1:
        raise ValueError(f"expected every run to have the same number of epochs, got {sorted(lengths)}")
    seeds = max(len(runs) for runs in runs_by_model.values())
    epochs = range(1, lengths.pop() + 1)
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for (name, runs), color in zip(runs_by_model.items(), ("tab:gray", "tab:blue", "tab:orange", "tab:green",
                                                             "tab:red", "tab:purple")):
        for ax, key in ((loss_ax, "val_loss"), (acc_ax, "val_accuracy")):
            mean, low, high = _mean_and_range(runs, key)
            ax.fill_between(epochs, low.numpy(), high.numpy(), color=color, alpha=0.2, linewidth=0)
            ax.plot(epochs, mean.numpy(), color=color, label=name)
        train_mean = _mean_and_range(runs, "train_loss")[0]
        loss_ax.plot(epochs, train_mean.numpy(), color=color, linestyle="--", linewidth=1)
    loss_ax.plot([], [], color="black", label=text["validation"])
    loss_ax.plot([], [], color="black", linestyle="--", linewidth=1, label=text["training"])
    for ax, key in ((loss_ax, "loss_both"), (acc_ax, "val_accuracy")):
        ax.set_xlabel(text["epoch"])
        ax.set_ylabel(text[key])
        ax.grid(alpha=0.3)
    loss_ax.legend(fontsize="small")
    acc_ax.legend(fontsize="small")
    fig.suptitle(f"{text['compare']} ({text['spread'].format(n=seeds)})", fontsize="medium")
    return fig


def plot_slope_history(slopes_by_epoch, *, lang: str = "es", init: float = 0.25, lr: float | None = None,
                       steps_per_epoch: int | None = None) -> Figure:
    """How the PReLU slopes moved during training: every unit, their median and their range per epoch.

    Args:
        slopes_by_epoch: (E, H) slopes after each of E epochs (a tensor or a list of (H,) tensors),
            e.g. collected with ``train(..., on_epoch_end=...)``.
        lang: ``'es'`` or ``'en'`` for the labels.
        init: the slopes' value before training (drawn at epoch 0).
        lr, steps_per_epoch: with both, draw the line ``init + lr * steps``: where a slope would be if
            every step moved it up by exactly ``lr``, as Adam roughly does while the gradient keeps
            its sign.

    Returns:
        A Figure with one axis.

    Raises:
        ValueError: no epochs or no units; only one of ``lr`` and ``steps_per_epoch``; unknown ``lang``.

    Example:
        >>> import torch
        >>> fig = plot_slope_history(torch.tensor([[0.3, 0.4], [0.5, 0.7]]), lang="en")
        >>> fig.axes[0].get_xlabel()
        'epoch'
    """
    text = _text(lang)
    if isinstance(slopes_by_epoch, torch.Tensor):
        slopes = slopes_by_epoch.detach().double()
    else:
        slopes = torch.stack([torch.as_tensor(s).detach().double().reshape(-1) for s in slopes_by_epoch]) \
            if len(slopes_by_epoch) else torch.empty(0, 0)
    if slopes.dim() != 2 or slopes.numel() == 0:
        raise ValueError(f"expected slopes of shape (epochs, units) with at least one of each, "
                         f"got shape {tuple(slopes.shape)}")
    if (lr is None) != (steps_per_epoch is None):
        raise ValueError(f"expected both lr and steps_per_epoch or neither, got lr={lr}, "
                         f"steps_per_epoch={steps_per_epoch}")
    slopes = torch.cat([torch.full((1, slopes.shape[1]), float(init), dtype=torch.float64), slopes])
    epochs = range(slopes.shape[0])
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.subplots()
    for unit in slopes.T:
        ax.plot(epochs, unit.numpy(), color="tab:orange", alpha=0.25, linewidth=0.8)
    ax.fill_between(epochs, slopes.min(dim=1).values.numpy(), slopes.max(dim=1).values.numpy(),
                    color="tab:orange", alpha=0.15, linewidth=0, label=text["range"])
    ax.plot(epochs, slopes.median(dim=1).values.numpy(), color="tab:orange", linewidth=2.5,
            label=text["median"])
    if lr is not None:
        ax.plot(epochs, [init + lr * steps_per_epoch * e for e in epochs], color="0.3", linestyle="--",
                label=text["bound"].format(init=init))
    ax.axhline(1, color="tab:green", linestyle="-.", label=text["linear"])
    ax.axhline(0, color="black", linewidth=1, label="ReLU (0)")
    ax.set_xlabel(text["epoch"])
    ax.set_ylabel(text["slope"])
    ax.set_title(text["slope_history"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig
