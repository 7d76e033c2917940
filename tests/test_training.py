"""Tests for lossfns.training: loss decreases, exact determinism, progress output, options."""

import io

import pytest
import torch

from lossfns.models.prelu_classifier import PReLUClassifier
from lossfns.training import History, deterministic, evaluate, train


def toy_data(seed=0, n=120, v=30, c=3):
    """Separable-ish multi-hot data: each class switches on its own block of features, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % c
    x = (torch.rand(n, v, generator=g) < 0.1).float()
    block = v // c
    for k in range(c):
        on = torch.rand(int((y == k).sum()), block, generator=g) < 0.4
        x[y == k, k * block:(k + 1) * block] += on.float()
    return x.clamp(max=1), y


def fresh_model(seed=0, v=30, **kwargs):
    with deterministic(seed):
        return PReLUClassifier(v, 8, 3, **kwargs)


def run(seed=0, threads=1, **kwargs):
    x, y = toy_data()
    model = fresh_model(seed, dropout=0.3)
    options = {"epochs": 6, "batch_size": 16, "lr": 0.01, "weight_decay": 1e-3, "verbose": False} | kwargs
    history = train(model, x[:90], y[:90], validation=(x[90:], y[90:]), seed=seed, num_threads=threads,
                    **options)
    return history, model


def test_train_loss_decreases_and_fits_toy_data():
    history, _ = run(epochs=25)
    assert history.epochs == 25
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.train_accuracy[-1] > 0.9
    assert len(history.val_loss) == len(history.val_accuracy) == 25


def test_train_is_deterministic_to_the_last_digit():
    first, model_a = run(seed=3)
    second, model_b = run(seed=3)
    assert first == second  # dataclass equality compares every float exactly
    assert first.train_loss == second.train_loss and first.val_accuracy == second.val_accuracy
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(a, b)


def test_train_different_seeds_give_different_runs():
    assert run(seed=1)[0].train_loss != run(seed=2)[0].train_loss


def test_train_with_sgd_also_learns():
    history, _ = run(optimizer="sgd", lr=0.2, epochs=25)
    assert history.train_loss[-1] < history.train_loss[0]


def test_train_with_lossfns_and_torch_cross_entropy_agree():
    ours, _ = run(seed=5)
    theirs, _ = run(seed=5, loss_fn=torch.nn.functional.cross_entropy)
    for name in ("train_loss", "val_loss"):
        torch.testing.assert_close(torch.tensor(getattr(ours, name)), torch.tensor(getattr(theirs, name)),
                                   rtol=1e-4, atol=1e-5)


def test_history_losses_are_measured_in_eval_mode_on_the_full_sets():
    x, y = toy_data()
    history, model = run()
    assert not model.training
    loss, acc = evaluate(model, x[90:], y[90:])
    expected = torch.nn.functional.cross_entropy(model(x[90:]), y[90:]).item()
    assert history.val_loss[-1] == pytest.approx(expected, rel=1e-6) and history.val_loss[-1] == loss
    assert history.val_accuracy[-1] == acc


def test_weight_decay_shrinks_weights_geometrically_but_not_prelu_slopes():
    x, y = toy_data()
    model = fresh_model()
    weight0, slopes0 = model.hidden.weight.detach().clone(), model.slopes
    zero_loss = lambda logits, target: (logits * 0.0).sum()
    train(model, x, y, epochs=2, batch_size=40, lr=0.1, weight_decay=0.5, optimizer="sgd", momentum=0.0,
          loss_fn=zero_loss, verbose=False)
    steps = 2 * 3
    torch.testing.assert_close(model.hidden.weight, weight0 * (1 - 0.1 * 0.5) ** steps)
    torch.testing.assert_close(model.slopes, slopes0)


def test_decay_slopes_shrinks_the_prelu_slopes_too():
    x, y = toy_data()
    model = fresh_model()
    weight0, slopes0 = model.hidden.weight.detach().clone(), model.slopes
    zero_loss = lambda logits, target: (logits * 0.0).sum()
    train(model, x, y, epochs=2, batch_size=40, lr=0.1, weight_decay=0.5, optimizer="sgd", momentum=0.0,
          loss_fn=zero_loss, decay_slopes=True, verbose=False)
    shrink = (1 - 0.1 * 0.5) ** (2 * 3)
    torch.testing.assert_close(model.hidden.weight, weight0 * shrink)
    torch.testing.assert_close(model.slopes, slopes0 * shrink)


def test_adam_weight_decay_is_l2_added_to_the_gradient_before_the_adaptive_scaling():
    x, y = toy_data()
    model, reference = fresh_model(dropout=0.0), fresh_model(dropout=0.0)
    train(model, x, y, epochs=1, batch_size=200, lr=0.01, weight_decay=0.3, verbose=False)
    # One full-batch step of torch's Adam on cross-entropy + (λ/2)‖w‖² over every parameter but the slopes.
    decayed = [p for name, p in reference.named_parameters() if not name.startswith("activation")]
    opt = torch.optim.Adam(reference.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(reference(x), y)
    loss = loss + 0.15 * sum((p ** 2).sum() for p in decayed)
    loss.backward()
    opt.step()
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b)


def test_on_epoch_end_is_called_after_every_epoch_with_the_model():
    x, y = toy_data()
    model, calls = fresh_model(), []
    history = train(model, x, y, epochs=3, lr=0.05, verbose=False,
                    on_epoch_end=lambda epoch, m: calls.append((epoch, m is model, m.slopes)))
    assert [c[0] for c in calls] == [1, 2, 3] and all(c[1] for c in calls)
    assert not torch.equal(calls[0][2], calls[2][2])  # the slopes moved between epochs
    torch.testing.assert_close(calls[-1][2], model.slopes)
    assert history.epochs == 3


def test_train_without_validation_leaves_validation_lists_empty():
    x, y = toy_data()
    history = train(fresh_model(), x, y, epochs=2, verbose=False)
    assert history.val_loss == [] and history.val_accuracy == [] and len(history.train_loss) == 2
    assert history.as_dict()["train_loss"] == history.train_loss


def test_train_verbose_false_prints_nothing(capsys):
    run(verbose=False)
    assert capsys.readouterr() == ("", "")


def test_train_progress_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    run(epochs=25, verbose=True, file=out)
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 11 and "\r" not in out.getvalue()
    assert lines[-1].startswith("epoch 25/25 loss ")
    assert "val acc" in lines[-1]


def test_train_progress_is_a_tqdm_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    run(epochs=4, verbose=True, file=out)
    text = out.getvalue()
    final = text.rsplit("\r", 1)[-1]  # tqdm redraws one line in place and ends it when done
    assert "\r" in text and text.endswith("\n") and text.count("\n") == 1
    assert "4/4" in final and "100%" in final and "val acc" in final


def test_deterministic_restores_rng_flags_and_threads():
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    before_flag, before_threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    with deterministic(0, num_threads=1):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.get_num_threads() == 1
        torch.rand(100)
    assert torch.equal(torch.rand(3), expected)  # the caller's random stream is untouched
    assert torch.are_deterministic_algorithms_enabled() == before_flag
    assert torch.get_num_threads() == before_threads


def test_history_equality_ignores_wall_time():
    assert History([1.0], [0.5], seconds=1.0) == History([1.0], [0.5], seconds=2.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "expected epochs to be an int >= 1, got 0"),
    ({"batch_size": 0}, "expected batch_size to be an int >= 1, got 0"),
    ({"lr": 0.0}, "expected a learning rate lr > 0, got 0.0"),
    ({"weight_decay": -1.0}, "expected weight_decay >= 0, got -1.0"),
    ({"optimizer": "rmsprop"}, r"expected optimizer in \('adam', 'sgd'\), got 'rmsprop'"),
    ({"num_threads": 0}, "expected num_threads to be an int >= 1 or None, got 0"),
])
def test_train_rejects_bad_options(kwargs, message):
    x, y = toy_data()
    with pytest.raises(ValueError, match=message):
        train(fresh_model(), x, y, verbose=False, **kwargs)


def test_train_rejects_bad_data():
    x, y = toy_data()
    with pytest.raises(ValueError, match="expected training inputs as a float tensor of shape"):
        train(fresh_model(), x.long(), y, verbose=False)
    with pytest.raises(ValueError, match="expected training targets as an int64 tensor of shape"):
        train(fresh_model(), x, y.float(), verbose=False)
    message = "expected the same non-zero number of training inputs and targets, got 120 and 119"
    with pytest.raises(ValueError, match=message):
        train(fresh_model(), x, y[:-1], verbose=False)
    with pytest.raises(ValueError, match="expected validation targets as an int64 tensor"):
        train(fresh_model(), x, y, validation=(x, y.unsqueeze(1)), verbose=False)
