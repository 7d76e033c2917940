"""Tests for lossfns.plots: figures, labels in each language, drawn values."""

import pytest
import torch
from matplotlib.figure import Figure

from lossfns.plots import plot_confusion_matrix, plot_learning_curves, plot_prelu_slopes
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


def test_figures_render_without_a_display(tmp_path):
    figures = [plot_learning_curves(HISTORY), plot_confusion_matrix([[1, 0], [0, 1]], ["a", "b"]),
               plot_prelu_slopes(torch.rand(16))]
    for i, fig in enumerate(figures):
        fig.savefig(tmp_path / f"f{i}.png")
        assert (tmp_path / f"f{i}.png").stat().st_size > 1000


@pytest.mark.parametrize("call", [
    lambda: plot_learning_curves(HISTORY, lang="fr"),
    lambda: plot_confusion_matrix([[1]], ["a"], lang="de"),
    lambda: plot_prelu_slopes(torch.ones(2), lang="pt"),
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
