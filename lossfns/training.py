"""A small, deterministic training loop for classifiers, with a progress bar (tqdm) or a few plain lines.

The loss is the reference ``lossfns.functional.cross_entropy`` unless ``loss_fn`` says
otherwise (the benchmark swaps in torch's to compare speed).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from tqdm import tqdm

from .functional import cross_entropy

__all__ = ["History", "deterministic", "evaluate", "train"]


@dataclass
class History:
    """Loss and accuracy after every epoch (index 0 = after epoch 1).

    Validation lists stay empty when no validation data was given. ``seconds`` is the wall
    time of the whole run (not part of equality, so two identical runs compare equal).
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = field(default=0.0, compare=False)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.train_loss)

    def as_dict(self) -> dict:
        """Plain dict of the lists (for JSON or ``torch.save``)."""
        return asdict(self)


@contextlib.contextmanager
def deterministic(seed: int = 0, *, num_threads: int | None = None):
    """Context in which torch computations are reproducible to the last digit.

    Inside: torch's global RNG is seeded with ``seed`` (weight initialisation, shuffling,
    dropout), ``torch.use_deterministic_algorithms(True)`` is on, and, if ``num_threads`` is
    given, torch uses that many CPU threads (a float sum split over a different number of
    threads may round differently, so compare runs with the same thread count). On exit the
    previous RNG state, deterministic-algorithms flag and thread count are restored, so the
    caller's own random numbers are not disturbed.

    Example:
        >>> with deterministic(0):
        ...     a = torch.rand(2)
        >>> with deterministic(0):
        ...     b = torch.rand(2)
        >>> bool((a == b).all())
        True
    """
    if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
        raise ValueError(f"expected num_threads to be an int >= 1 or None, got {num_threads!r}")
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)


class _Progress:
    """tqdm's bar on a terminal; elsewhere (notebooks, logs) at most ~10 plain lines, no carriage returns."""

    def __init__(self, total: int, file, enabled: bool):
        self.total, self.file, self.enabled = total, file, enabled
        tty = enabled and hasattr(file, "isatty") and file.isatty()
        self.bar = tqdm(total=total, file=file, unit="epoch", leave=True) if tty else None
        self.every = max(1, math.ceil(total / 10))

    def update(self, epoch: int, message: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(message, refresh=False)
            self.bar.update()
            if epoch == self.total:
                self.bar.close()
        elif self.enabled and (epoch % self.every == 0 or epoch == self.total):
            print(f"epoch {epoch:>{len(str(self.total))}}/{self.total} {message}", file=self.file, flush=True)


def _check_data(x, y, name: str) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 2:
        raise ValueError(f"expected {name} inputs as a float tensor of shape (N, V), got "
                         f"{type(x).__name__} {getattr(x, 'dtype', '')} {tuple(getattr(x, 'shape', ()))}")
    if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.dim() != 1:
        raise ValueError(f"expected {name} targets as an int64 tensor of shape (N,), got "
                         f"{type(y).__name__} {getattr(y, 'dtype', '')} {tuple(getattr(y, 'shape', ()))}")
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"expected the same non-zero number of {name} inputs and targets, "
                         f"got {x.shape[0]} and {y.shape[0]}")


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, loss_fn: Callable | None = None
             ) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on (x, y), in eval mode (no dropout), without gradients.

    Leaves the model in eval mode.

    Returns:
        ``(loss, accuracy)`` as Python floats.
    """
    loss_fn = cross_entropy if loss_fn is None else loss_fn
    model.eval()
    logits = model(x)
    return float(loss_fn(logits, y)), float((logits.argmax(dim=1) == y).double().mean())


def _optimizer(model: nn.Module, name: str, lr: float, weight_decay: float, momentum: float,
               decay_slopes: bool = False):
    # He et al. (2015) keep PReLU slopes out of weight decay: it would push them to 0 (plain ReLU).
    slopes = set() if decay_slopes else \
        {id(p) for m in model.modules() if isinstance(m, nn.PReLU) for p in m.parameters()}
    decayed = [p for p in model.parameters() if id(p) not in slopes]
    kept = [p for p in model.parameters() if id(p) in slopes]
    groups = [{"params": decayed, "weight_decay": weight_decay}, {"params": kept, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    return torch.optim.SGD(groups, lr=lr, momentum=momentum)


def train(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, *,
          validation: tuple[torch.Tensor, torch.Tensor] | None = None, epochs: int = 30, batch_size: int = 32,
          lr: float = 1e-2, optimizer: str = "adam", weight_decay: float = 0.0, momentum: float = 0.9,
          seed: int = 0, num_threads: int | None = None, loss_fn: Callable | None = None,
          decay_slopes: bool = False, on_epoch_end: Callable[[int, nn.Module], None] | None = None,
          verbose: bool = True, file=None) -> History:
    r"""Train a classifier with mini-batches and record loss/accuracy per epoch.

    Each epoch shuffles the training rows, and for every batch of ``batch_size`` rows
    minimises

    .. math:: \frac{1}{N}\sum_{i=1}^{N} -\log \operatorname{softmax}(z_i)_{c_i}
              + \frac{\lambda}{2}\lVert w \rVert^2

    (``cross_entropy`` with 'mean' reduction over the N rows of the batch; the L2 term is the
    optimiser's ``weight_decay`` λ, applied to every parameter except PReLU slopes unless
    ``decay_slopes``). Both optimisers add λw to the gradient: for SGD that is exactly the
    gradient of (λ/2)‖w‖²; Adam then rescales it per parameter with the rest of the gradient
    (coupled L2, not AdamW's decoupled decay). After each epoch the model is evaluated in eval
    mode (no dropout) on the whole training set and on ``validation``, so train and validation
    curves are measured the same way.

    The run happens inside :func:`deterministic` (``seed``, ``num_threads``): the same
    model initial state, data, options, seed and thread count give identical histories.
    Build the model inside ``deterministic(seed)`` too if its initial weights must repeat.

    Args:
        model: maps inputs (N, V) to logits (N, C).
        x_train: float inputs (N, V).
        y_train: int64 class indices (N,).
        validation: optional ``(x_val, y_val)`` with the same layout.
        epochs: number of passes over the training set (>= 1).
        batch_size: rows per gradient step (>= 1); the last batch may be smaller.
        lr: learning rate (> 0).
        optimizer: ``'adam'`` (``torch.optim.Adam``) or ``'sgd'`` (``torch.optim.SGD`` with ``momentum``).
        weight_decay: L2 coefficient λ (>= 0).
        momentum: SGD momentum (ignored by Adam).
        seed: seed of shuffling and dropout.
        num_threads: CPU threads during training (``None`` keeps torch's current setting).
        loss_fn: ``loss_fn(logits, target) -> scalar``; default ``lossfns.functional.cross_entropy``.
        decay_slopes: also apply ``weight_decay`` to the PReLU slopes (He et al. do not; the
            book compares both).
        on_epoch_end: called as ``on_epoch_end(epoch, model)`` after every epoch (1-based), once
            the epoch's losses are recorded, e.g. to keep the PReLU slopes of every epoch.
        verbose: print a progress line (False silences it).
        file: where the progress goes (default ``sys.stdout``). On a terminal, tqdm's bar;
            elsewhere (notebooks, logs) at most about ten plain lines.

    Returns:
        The :class:`History`. The model is trained in place and left in eval mode.

    Raises:
        ValueError: malformed data (shapes, dtypes, empty) or an option out of range.

    Example:
        >>> import torch
        >>> x = torch.eye(4)
        >>> y = torch.tensor([0, 1, 0, 1])
        >>> model = torch.nn.Linear(4, 2)
        >>> history = train(model, x, y, epochs=20, lr=0.1, verbose=False)
        >>> history.epochs, history.train_accuracy[-1]
        (20, 1.0)
    """
    _check_data(x_train, y_train, "training")
    if validation is not None:
        _check_data(*validation, "validation")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"expected epochs to be an int >= 1, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"expected batch_size to be an int >= 1, got {batch_size!r}")
    if not lr > 0:
        raise ValueError(f"expected a learning rate lr > 0, got {lr}")
    if not weight_decay >= 0:
        raise ValueError(f"expected weight_decay >= 0, got {weight_decay}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"expected optimizer in ('adam', 'sgd'), got {optimizer!r}")
    loss_fn = cross_entropy if loss_fn is None else loss_fn
    progress = _Progress(epochs, sys.stdout if file is None else file, verbose)
    history = History()
    start = time.perf_counter()
    with deterministic(seed, num_threads=num_threads):
        opt = _optimizer(model, optimizer, lr, weight_decay, momentum, decay_slopes)
        n = x_train.shape[0]
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(n)
            for begin in range(0, n, batch_size):
                batch = order[begin:begin + batch_size]
                opt.zero_grad()
                loss = loss_fn(model(x_train[batch]), y_train[batch])
                loss.backward()
                opt.step()
            loss, acc = evaluate(model, x_train, y_train, loss_fn=loss_fn)
            history.train_loss.append(loss)
            history.train_accuracy.append(acc)
            message = f"loss {loss:.4f} acc {acc:.3f}"
            if validation is not None:
                val_loss, val_acc = evaluate(model, *validation, loss_fn=loss_fn)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_acc)
                message += f" | val loss {val_loss:.4f} val acc {val_acc:.3f}"
            progress.update(epoch, message)
            if on_epoch_end is not None:
                on_epoch_end(epoch, model)
    history.seconds = time.perf_counter() - start
    return history
