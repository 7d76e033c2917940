"""The module wrappers give the values and gradients of their torch counterparts."""

import pytest
import torch

import lossfns.nn as LN

torch.manual_seed(0)
N, C = 5, 4


def regression_pair():
    return torch.randn(N, dtype=torch.float64), torch.randn(N, dtype=torch.float64)


def logits_and_indices():
    return torch.randn(N, C, dtype=torch.float64), torch.randint(0, C, (N,))


CASES = {
    "mse": (LN.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), regression_pair),
    "l1": (LN.L1Loss(), torch.nn.L1Loss(), regression_pair),
    "huber": (LN.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5), regression_pair),
    "smooth_l1": (LN.SmoothL1Loss(beta=0.3), torch.nn.SmoothL1Loss(beta=0.3), regression_pair),
    "poisson": (LN.PoissonNLLLoss(), torch.nn.PoissonNLLLoss(),
                lambda: (torch.randn(N, dtype=torch.float64), torch.rand(N, dtype=torch.float64) * 3)),
    "bce": (LN.BCELoss(), torch.nn.BCELoss(),
            lambda: (torch.rand(N, dtype=torch.float64) * 0.9 + 0.05, torch.rand(N, dtype=torch.float64))),
    "bce_logits": (LN.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0, dtype=torch.float64)),
                   torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0, dtype=torch.float64)),
                   lambda: (torch.randn(N, dtype=torch.float64), torch.randint(0, 2, (N,)).double())),
    "cross_entropy": (LN.CrossEntropyLoss(weight=torch.rand(C, dtype=torch.float64), label_smoothing=0.1),
                      None, logits_and_indices),
    "nll": (LN.NLLLoss(ignore_index=1), torch.nn.NLLLoss(ignore_index=1),
            lambda: (torch.randn(N, C, dtype=torch.float64).log_softmax(-1), torch.tensor([0, 1, 2, 3, 0]))),
    "kl": (LN.KLDivLoss(), torch.nn.KLDivLoss(reduction="batchmean"),
           lambda: (torch.randn(N, C, dtype=torch.float64).log_softmax(-1),
                    torch.randn(N, C, dtype=torch.float64).softmax(-1))),
    "soft_margin": (LN.SoftMarginLoss(), torch.nn.SoftMarginLoss(),
                    lambda: (torch.randn(N, dtype=torch.float64),
                             torch.randint(0, 2, (N,)).double() * 2 - 1)),
    "multi_margin": (LN.MultiMarginLoss(p=2, margin=0.5), torch.nn.MultiMarginLoss(p=2, margin=0.5),
                     logits_and_indices),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_module_matches_torch_module(name):
    ours, theirs, make = CASES[name]
    if theirs is None:  # CrossEntropyLoss: same hyperparameters as ours
        theirs = torch.nn.CrossEntropyLoss(weight=ours.weight, label_smoothing=ours.label_smoothing)
    input, target = make()
    input.requires_grad_(True)
    expected = theirs(input, target)
    (expected_grad,) = torch.autograd.grad(expected, input)
    got = ours(input, target)
    (got_grad,) = torch.autograd.grad(got, input)
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(got_grad, expected_grad)


def test_weight_buffer_follows_dtype_conversion():
    loss = LN.CrossEntropyLoss(weight=torch.ones(3))
    assert loss.double().weight.dtype == torch.float64
    assert "weight" in dict(loss.named_buffers())


def test_repr_shows_hyperparameters():
    assert "label_smoothing=0.2" in repr(LN.CrossEntropyLoss(label_smoothing=0.2))


def test_margin_modules_match_closed_forms():
    z = torch.randn(N, dtype=torch.float64)
    y = torch.randint(0, 2, (N,)).double() * 2 - 1
    torch.testing.assert_close(LN.LogisticLoss()(z, y), torch.log1p(torch.exp(-y * z)).mean())
    torch.testing.assert_close(LN.HingeLoss(margin=2.0)(z, y), torch.clamp(2.0 - y * z, min=0).mean())
    torch.testing.assert_close(LN.MAPELoss()(z, y), (100 * (y - z).abs() / y.abs()).mean())


def test_unknown_reduction_raises_at_construction():
    with pytest.raises(ValueError, match="expected reduction to be one of 'none', 'mean', 'sum', got 'avg'"):
        LN.CrossEntropyLoss(reduction="avg")


def test_kl_div_module_mean_reduction_raises_naming_batchmean():
    with pytest.raises(ValueError, match="'batchmean'.*got 'mean'"):
        LN.KLDivLoss(reduction="mean")
