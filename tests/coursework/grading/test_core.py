"""The grading core: comparison, the sandbox wire format, the seed, feedback wording."""

from __future__ import annotations

import math

import pytest
import torch

from coursework.chapters import grading
from coursework.grading import Checker
from coursework.grading.behaviour import Behaviour, Case
from coursework.grading.compare import mismatch
from coursework.grading.outcome import Raised, Returned, Unavailable
from coursework.grading.seed import DEFAULT_SEED, SEED_VARIABLE, behaviour_generator, instructor_seed
from coursework.grading.verdict import cases_of, judge
from coursework.grading.wire import Opaque, WireError, decode, encode

TOL = {"rtol": 1e-5, "atol": 1e-6}
ASSIGNMENT = grading("mse_loss")[0].assignment("en")  # its checks call mse_loss and l1_loss


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 1.0

    def __bool__(self):
        return True


class TensorLike(torch.Tensor):
    def __eq__(self, other):
        return True


def test_close_values_pass_and_wrong_ones_fail():
    expected = torch.tensor([1.0, 2.0, math.nan, math.inf])
    assert mismatch(expected, expected.clone() * (1 + 1e-7), **TOL) is None
    assert mismatch(expected, torch.tensor([1.0, 2.1, math.nan, math.inf]), **TOL)[0] == "value"
    assert mismatch(expected, torch.tensor([1.0, 2.0, 0.0, math.inf]), **TOL)[0] == "value"


def test_shape_dtype_and_length_mismatches_are_named():
    assert mismatch(torch.zeros(3), torch.zeros(3, 1), **TOL) == ("shape", "(3,) / (3, 1)")
    assert mismatch(torch.zeros(3), torch.zeros(3, dtype=torch.int64), **TOL)[0] == "dtype"
    assert mismatch((torch.zeros(1), torch.zeros(1)), (torch.zeros(1),), **TOL)[0] == "length"


def test_objects_claiming_equality_are_a_wrong_type_not_a_pass():
    for cheat in (AlwaysEqual(), "1.0", [1.0], True):
        assert mismatch(torch.tensor(1.0), cheat, **TOL)[0] == "type"
        assert mismatch(1.0, cheat, **TOL)[0] == "type"
    assert mismatch(torch.tensor(1.0), Opaque("AlwaysEqual"), **TOL)[0] == "type"
    assert mismatch(torch.tensor([5.0]), torch.tensor([0.0]).as_subclass(TensorLike), **TOL)[0] == "type"


def test_a_python_number_is_accepted_for_a_scalar_result():
    assert mismatch(torch.tensor(2.5), 2.5, **TOL) is None
    assert mismatch(torch.tensor(2.5), 3, **TOL)[0] == "value"


@pytest.mark.parametrize("value", [
    torch.arange(6.0).reshape(2, 3), torch.tensor([True, False]), torch.zeros(0, 3),
    torch.tensor(7, dtype=torch.int64), (1, 2.5, None, "mean", True), [torch.ones(2)], {"a": 1.0},
    math.inf, -0.0,
])
def test_the_wire_format_round_trips_plain_data(value):
    back = decode(encode(value))
    if isinstance(value, torch.Tensor):
        assert back.dtype == value.dtype and torch.equal(back, value)
    elif isinstance(value, list):
        assert type(back) is list and torch.equal(back[0], value[0])
    else:
        assert back == value and type(back) is type(value)


def test_unknown_objects_cross_the_wire_as_opaque_names():
    assert isinstance(decode(encode(AlwaysEqual())), Opaque)


@pytest.mark.parametrize("data", [
    {"tensor": "float32", "shape": [3], "data": "AAAA"},      # 3 bytes for 3 floats
    {"tensor": "object", "shape": [1], "data": ""},
    {"tensor": "float32", "shape": [-1], "data": ""},
    {"pickle": "gASV"}, {"int": 5}, {"float": "1" * 50}, [1, 2], {"tuple": [{"int": "1"}], "x": 1},
])
def test_malformed_wire_data_is_refused(data):
    with pytest.raises(WireError):
        decode(data)


def test_the_seed_comes_from_the_variable_then_the_file_then_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv(SEED_VARIABLE, raising=False)
    assert instructor_seed(tmp_path) == (DEFAULT_SEED, True)
    (tmp_path / ".instructor_seed").write_text("424242\n")
    assert instructor_seed(tmp_path) == (424242, False)
    monkeypatch.setenv(SEED_VARIABLE, "7")
    assert instructor_seed(tmp_path) == (7, False)
    monkeypatch.setenv(SEED_VARIABLE, "seven")
    with pytest.raises(ValueError, match="expected an integer seed"):
        instructor_seed(tmp_path)


def test_hidden_inputs_depend_on_the_seed_and_the_behaviour_only():
    a = torch.rand(3, generator=behaviour_generator(1, "x"))
    assert torch.equal(a, torch.rand(3, generator=behaviour_generator(1, "x")))
    assert not torch.equal(a, torch.rand(3, generator=behaviour_generator(2, "x")))
    assert not torch.equal(a, torch.rand(3, generator=behaviour_generator(1, "y")))


SQUARE = Behaviour(
    grade_id="square", function="square", points=2,
    summary={"es": "square eleva al cuadrado", "en": "square squares"},
    fixed=lambda: [Case((torch.tensor([1.0, 2.0]),))],
    hidden=lambda g: [Case((torch.randn(4, generator=g) * 1000 + 12345,))],
    reference=lambda x: x ** 2,
)


def test_a_failure_on_shown_inputs_shows_input_expected_and_got():
    cases = cases_of(SQUARE, seed=0)
    verdict = judge(SQUARE, cases, [Returned(torch.tensor([1.0, 3.0])), Returned(None)], "en")
    text = str(verdict)
    assert verdict.points == 0 and verdict.max_points == 2
    assert "square(tensor([1., 2.]))" in text and "Expected: tensor([1., 4.])" in text
    assert "Got:      tensor([1., 3.])" in text


def test_a_failure_on_hidden_inputs_never_shows_them():
    cases = cases_of(SQUARE, seed=0)
    hidden_input = cases[1][0].args[0]
    verdict = judge(SQUARE, cases, [Returned(torch.tensor([1.0, 4.0])), Returned(hidden_input)], "es")
    text = str(verdict)
    assert verdict.points == 0 and "entradas aleatorias ocultas" in text
    assert "1234" not in text and "tensor(" not in text


@pytest.mark.parametrize("outcome, words", [
    (Raised("NotImplementedError", ""), "todavía no está implementada"),
    (Raised("KeyError", "'x'"), "lanzó KeyError: 'x'"),
    (Unavailable("missing"), "no está definida"),
    (Unavailable("timeout", "3 s"), "se agotó el tiempo (3 s)"),
])
def test_each_kind_of_failure_is_worded_in_the_notebook_language(outcome, words):
    cases = cases_of(SQUARE, seed=0)
    assert words in str(judge(SQUARE, cases, [outcome, outcome], "es"))


def test_the_in_notebook_check_prints_a_verdict_and_never_stops_the_notebook(capsys):
    check = Checker(ASSIGNMENT)

    def l1_loss(input, target, reduction="mean"):
        return {"mean": torch.mean, "sum": torch.sum, "none": lambda x: x}[reduction]((input - target).abs())

    assert check("l1_loss", {"l1_loss": l1_loss}) is None  # no value for the notebook to show
    assert capsys.readouterr().out.startswith("✓ Passed: l1_loss")
    check("l1_loss", {"l1_loss": lambda input, target, reduction="mean": (input - target).abs().sum()})
    printed = capsys.readouterr()
    assert printed.err.startswith("✗ Failed: l1_loss") and "Review in the book:" in printed.err
    check("l1_loss", {})
    assert "not attempted" in capsys.readouterr().out
    with pytest.raises(ValueError, match=f"expected a grade_id of {ASSIGNMENT}"):
        check("no_such_check", {})


def test_try_it_cells_report_an_error_in_one_line_and_go_on(capsys):
    check = Checker(ASSIGNMENT)
    with check.trying():
        raise NotImplementedError()
    with check.trying():
        raise KeyError("x")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "NotImplementedError" in err[0]
    assert err[1].startswith("✗ Your code raised KeyError")


def test_the_summary_says_which_functions_are_done_failing_or_not_attempted(capsys):
    check = Checker(ASSIGNMENT.replace("-en", "-es"))

    def mse_loss(input, target, reduction="mean"):
        if input.shape != target.shape or reduction not in ("mean", "sum", "none"):
            raise ValueError("bad input")
        squared = (input - target) ** 2
        return {"mean": squared.mean(), "sum": squared.sum(), "none": squared}[reduction]

    statuses = check.summary({"mse_loss": mse_loss, "l1_loss": lambda *args, **kwargs: torch.zeros(())})
    assert statuses["mse_loss"] == "done" and statuses["l1_loss"] == "failing"
    assert statuses["huber_loss"] == statuses["huber_grad"] == "not_attempted"
    out = capsys.readouterr().out
    assert "✓ lista" in out and "✗ falla" in out and "· sin intentar" in out and "la calificación" in out


def test_the_in_notebook_check_refuses_torch_losses_like_grading_and_restores_them_after():
    def mse_loss(input, target, reduction="mean"):
        return torch.nn.functional.mse_loss(input, target, reduction=reduction)

    verdict = Checker(ASSIGNMENT).verdict("mse_loss_mean", {"mse_loss": mse_loss})
    assert verdict.points == 0 and "torch.nn.functional.mse_loss is not allowed" in str(verdict)
    x = torch.tensor([1.0, 3.0])
    assert torch.nn.functional.mse_loss(x, torch.zeros(2)) == 5.0  # back to normal outside the check
    assert torch.nn.MSELoss()(x, torch.zeros(2)) == 5.0
    assert torch.allclose(torch.softmax(x, 0), torch.exp(x) / torch.exp(x).sum())
