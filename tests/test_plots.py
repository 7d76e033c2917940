"""Tests for lossfns.plots: figures, labels in each language, drawn values."""

import pytest
import torch
from matplotlib.figure import Figure

from lossfns.plots import (
    plot_activation_comparison,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_prelu_slopes,
    plot_slope_history,
)
from lossfns.training import History

HISTORY = History(train_loss=[1.0, 0.6, 0.4], train_accuracy=[0.4, 0.7, 0.9],
                  val_loss=[1.05, 0.8, 0.85], val_accuracy=[0.35, 0.6, 0.62])


def test_plot_learning_curves_draws_train_and_validation_per_epoch():
    fig = plot_learning_curves(HISTORY, lang="en")
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    train_line, val_line = loss_ax.get_lines()
    assert list(train_line.get_xdata()) == [1, 2, 3] and list(train_line.get_ydata()) == HISTORY.train_loss
    assert list(val_line.get_ydata()) == HISTORY.val_loss
    assert list(acc_ax.get_lines()[1].get_ydata()) == HISTORY.val_accuracy
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train", "validation"]


def test_plot_learning_curves_spanish_labels_and_no_validation():
    fig = plot_learning_curves({"train_loss": [1.0, 0.5], "train_accuracy": [0.5, 0.8],
                                "val_loss": [], "val_accuracy": []}, lang="es")
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "época" and acc_ax.get_ylabel() == "exactitud"
    assert len(loss_ax.get_lines()) == 1
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["entrenamiento"]


def test_plot_confusion_matrix_annotates_counts_and_class_names():
    matrix = torch.tensor([[5, 1, 0], [2, 3, 1], [0, 0, 6]])
    fig = plot_confusion_matrix(matrix, ["negativo", "neutro", "positivo"], lang="es")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(v) for v in matrix.flatten().tolist()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["negativo", "neutro", "positivo"]
    assert ax.get_xlabel() == "clase predicha" and ax.get_ylabel() == "clase real"


def test_plot_confusion_matrix_normalized_rows():
    fig = plot_confusion_matrix([[3, 1], [0, 2]], ["neg", "pos"], lang="en", normalize=True)
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.75", "0.25", "0.00", "1.00"]


def test_plot_prelu_slopes_draws_each_learned_slope_and_references():
    slopes = torch.tensor([0.5, -0.2, 0.1, 0.3])
    fig = plot_prelu_slopes(slopes, lang="en")
    left, right = fig.axes
    lines = left.get_lines()
    # one faint line per unit, the median, ReLU and LeakyReLU (plus the two axis lines)
    assert len(lines) == 4 + 3 + 2
    x = torch.as_tensor(lines[1].get_xdata())
    torch.testing.assert_close(torch.as_tensor(lines[1].get_ydata()), x.clamp(min=0) - 0.2 * x.clamp(max=0))
    heights = sorted(bar.get_height() for bar in right.patches)
    assert heights == pytest.approx(sorted(slopes.tolist()))
    assert "ReLU (a = 0)" in [t.get_text() for t in left.get_legend().get_texts()]


def test_plot_prelu_slopes_single_shared_slope_spanish():
    fig = plot_prelu_slopes(torch.tensor([0.07]), lang="es")
    assert fig.axes[1].get_title() == "Pendientes PReLU aprendidas"
    assert any("a = 0.070" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_plot_prelu_slopes_marks_the_linear_slope():
    right = plot_prelu_slopes(torch.tensor([0.5, 1.5]), lang="es").axes[1]
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert "a = 1 (lineal)" in labels
    assert any(list(line.get_ydata()) == [1, 1] for line in right.get_lines())


OTHER = History(train_loss=[0.8, 0.4, 0.2], train_accuracy=[0.5, 0.8, 0.95],
                val_loss=[0.95, 0.7, 0.75], val_accuracy=[0.45, 0.7, 0.68])


def test_plot_activation_comparison_draws_mean_and_range_over_seeds():
    fig = plot_activation_comparison({"lineal": [HISTORY, OTHER], "PReLU": [OTHER]}, lang="es")
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylabel() == "pérdida de entropía cruzada"
    assert acc_ax.get_ylabel() == "exactitud de validación"
    lines = {line.get_label(): line for line in acc_ax.get_lines()}
    expected = [(a + b) / 2 for a, b in zip(HISTORY.val_accuracy, OTHER.val_accuracy)]
    assert list(lines["lineal"].get_xdata()) == [1, 2, 3]
    assert list(lines["lineal"].get_ydata()) == pytest.approx(expected)
    assert list(lines["PReLU"].get_ydata()) == pytest.approx(OTHER.val_accuracy)
    band = acc_ax.collections[0].get_paths()[0].vertices[:, 1]
    lowest = [min(a, b) for a, b in zip(HISTORY.val_accuracy, OTHER.val_accuracy)]
    highest = [max(a, b) for a, b in zip(HISTORY.val_accuracy, OTHER.val_accuracy)]
    assert min(band) == pytest.approx(min(lowest)) and max(band) == pytest.approx(max(highest))
    dashed = [line for line in loss_ax.get_lines() if line.get_linestyle() == "--" and len(line.get_xdata())]
    assert list(dashed[0].get_ydata()) == pytest.approx([(a + b) / 2 for a, b in zip(HISTORY.train_loss,
                                                                                       OTHER.train_loss)])
    legend = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert legend == ["lineal", "PReLU", "validación", "entrenamiento"]
    assert "2 semillas" in fig.get_suptitle()


def test_plot_activation_comparison_rejects_bad_runs():
    with pytest.raises(ValueError, match="expected at least one model with its runs, got none"):
        plot_activation_comparison({})
    with pytest.raises(ValueError, match="expected at least one run of model 'ReLU', got none"):
        plot_activation_comparison({"ReLU": []})
    short = History(train_loss=[1.0], train_accuracy=[0.5], val_loss=[1.0], val_accuracy=[0.5])
    with pytest.raises(ValueError,
                       match=r"expected every run to have the same number of epochs, got \[1, 3\]"):
        plot_activation_comparison({"a": [HISTORY], "b": [short]})
    with pytest.raises(ValueError, match="expected runs with validation curves, got one without for 'a'"):
        plot_activation_comparison({"a": [History(train_loss=[1.0], train_accuracy=[0.5])]})


def test_plot_slope_history_median_range_and_adam_bound():
    slopes = torch.tensor([[0.3, 0.5, 0.4], [0.6, 1.2, 0.9]])
    fig = plot_slope_history(slopes, lang="en", init=0.25, lr=0.01, steps_per_epoch=20)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["median"].get_xdata()) == [0, 1, 2]
    assert list(lines["median"].get_ydata()) == pytest.approx([0.25, 0.4, 0.9])
    bound = next(line for label, line in lines.items() if "lr × steps" in label)
    assert list(bound.get_ydata()) == pytest.approx([0.25, 0.45, 0.65])
    assert len([line for line in ax.get_lines() if line.get_label().startswith("_")]) >= 3  # one per unit
    assert ax.get_xlabel() == "epoch" and "a = 1 (linear)" in lines


def test_plot_slope_history_spanish_and_list_input_without_bound():
    fig = plot_slope_history([torch.tensor([0.3]), torch.tensor([0.35])], lang="es")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "época" and ax.get_title() == "Pendientes PReLU durante el entrenamiento"
    assert not any("lr ×" in line.get_label() for line in ax.get_lines())
    with pytest.raises(ValueError, match=r"expected slopes of shape \(epochs, units\)"):
        plot_slope_history([])
    with pytest.raises(ValueError, match="expected both lr and steps_per_epoch or neither"):
        plot_slope_history(torch.ones(2, 2), lr=0.1)


def test_figures_render_without_a_display(tmp_path):
    figures = [plot_learning_curves(HISTORY), plot_confusion_matrix([[1, 0], [0, 1]], ["a", "b"]),
               plot_prelu_slopes(torch.rand(16)), plot_activation_comparison({"a": [HISTORY]}),
               plot_slope_history(torch.rand(5, 16), lr=0.01, steps_per_epoch=10)]
    for i, fig in enumerate(figures):
        fig.savefig(tmp_path / f"f{i}.png")
        assert (tmp_path / f"f{i}.png").stat().st_size > 1000


@pytest.mark.parametrize("call", [
    lambda: plot_learning_curves(HISTORY, lang="fr"),
    lambda: plot_confusion_matrix([[1]], ["a"], lang="de"),
    lambda: plot_prelu_slopes(torch.ones(2), lang="pt"),
    lambda: plot_activation_comparison({"a": [HISTORY]}, lang="fr"),
    lambda: plot_slope_history(torch.ones(2, 2), lang="it"),
])
def test_plots_reject_unknown_language(call):
    with pytest.raises(ValueError, match=r"expected lang in \['en', 'es'\], got"):
        call()


def test_plots_reject_bad_inputs():
    with pytest.raises(ValueError, match="expected a history with at least one epoch, got an empty one"):
        plot_learning_curves(History())
    with pytest.raises(ValueError, match=r"expected a \(3, 3\) matrix for 3 class names, got shape \(2, 2\)"):
        plot_confusion_matrix([[1, 0], [0, 1]], ["a", "b", "c"])
    with pytest.raises(ValueError, match="expected at least one slope, got an empty tensor"):
        plot_prelu_slopes(torch.tensor([]))
