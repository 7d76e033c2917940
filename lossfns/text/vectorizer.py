"""Texts to bag-of-words multi-hot vectors, labels to class indices and one-hot vectors."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..functional import multi_hot, one_hot
from .tokenizer import tokenize
from .vocabulary import Vocabulary, decode_indices

__all__ = ["LabelEncoder", "TextVectorizer"]


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"expected a list of texts, got a single str {texts[:30]!r}; wrap it as [text]")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"expected every text to be a str, got {type(text).__name__} at position {i}")
    return texts


class TextVectorizer:
    r"""Tokenize texts and turn each into a bag-of-words multi-hot vector over a vocabulary.

    .. math:: x_{v} = [\text{token } v \text{ occurs in the text}],\quad v = 0, \dots, V-1

    Entry 0 (``<unk>``) is 1 when the text has a word outside the vocabulary. Word order and
    repetitions are lost: a multi-hot records presence only (``lossfns.functional.multi_hot``).

    Args:
        vocabulary: the :class:`Vocabulary` (size V).
        lowercase: passed to :func:`tokenize`.
        numbers: passed to :func:`tokenize` (``'map'``, ``'keep'`` or ``'drop'``).
        truncate: passed to :func:`tokenize` (keep the first k letters of each word, or ``None``).

    Example:
        >>> vec = TextVectorizer.fit(["Good film", "Bad film!"])
        >>> vec.vocabulary.tokens
        ['<unk>', 'film', 'bad', 'good']
        >>> vec(["good good popcorn"])
        tensor([[1., 0., 0., 1.]])
    """

    def __init__(self, vocabulary: Vocabulary, *, lowercase: bool = True, numbers: str = "map",
                 truncate: int | None = None):
        tokenize("", lowercase=lowercase, numbers=numbers, truncate=truncate)  # validates the options
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.numbers = numbers
        self.truncate = truncate

    @classmethod
    def fit(cls, texts: Sequence[str], *, min_freq: int = 1, max_size: int | None = None,
            lowercase: bool = True, numbers: str = "map", truncate: int | None = None) -> TextVectorizer:
        """Build the vocabulary from ``texts`` (training texts only) and return the vectorizer.

        ``min_freq`` and ``max_size`` go to :meth:`Vocabulary.build`; ``lowercase`` and
        ``numbers``, ``truncate`` to :func:`tokenize`.
        """
        options = {"lowercase": lowercase, "numbers": numbers, "truncate": truncate}
        tokens = [tokenize(t, **options) for t in _check_texts(texts)]
        return cls(Vocabulary.build(tokens, min_freq=min_freq, max_size=max_size), **options)

    def tokenize(self, text: str) -> list[str]:
        """Tokens of one text with this vectorizer's settings."""
        return tokenize(text, lowercase=self.lowercase, numbers=self.numbers, truncate=self.truncate)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Vocabulary indices of the tokens of every text."""
        return [self.vocabulary.encode(self.tokenize(t)) for t in _check_texts(texts)]

    def __call__(self, texts: Sequence[str], *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Multi-hot matrix of shape (N, V) for N texts (float, ready for ``nn.Linear``)."""
        size = len(self.vocabulary)
        return multi_hot(self.encode(texts), size, dtype=dtype).reshape(-1, size)

    transform = __call__

    @property
    def config(self) -> dict:
        """Everything needed to rebuild this vectorizer: ``TextVectorizer.from_config(config)``."""
        return {"tokens": self.vocabulary.tokens, "lowercase": self.lowercase, "numbers": self.numbers,
                "truncate": self.truncate}

    @classmethod
    def from_config(cls, config: dict) -> TextVectorizer:
        """Rebuild a vectorizer saved with :attr:`config`."""
        return cls(Vocabulary(config["tokens"]), lowercase=config["lowercase"], numbers=config["numbers"],
                   truncate=config["truncate"])


class LabelEncoder:
    """Class names ↔ class indices, and one-hot targets.

    Args:
        classes: the class names; class index k means ``classes[k]``.

    Raises:
        ValueError: ``classes`` is empty or repeats a name.

    Example:
        >>> enc = LabelEncoder(["negativo", "neutro", "positivo"])
        >>> enc.encode(["positivo", "negativo"])
        tensor([2, 0])
        >>> enc.one_hot(["positivo", "negativo"])
        tensor([[0, 0, 1],
                [1, 0, 0]])
        >>> enc.decode([1])
        ['neutro']
    """

    def __init__(self, classes: Sequence[str]):
        classes = list(classes)
        if not classes or len(set(classes)) != len(classes):
            raise ValueError(f"expected a non-empty list of distinct class names, got {classes}")
        self.classes = classes
        self._index = {name: k for k, name in enumerate(classes)}

    def __len__(self) -> int:
        return len(self.classes)

    def encode(self, labels: Sequence[str]) -> torch.Tensor:
        """Class indices, int64 tensor of shape (N,).

        Raises:
            ValueError: a label is not one of ``classes``.
        """
        if isinstance(labels, str):
            raise TypeError(f"expected a list of labels, got a single str {labels!r}; wrap it as [label]")
        out = []
        for label in labels:
            if label not in self._index:
                raise ValueError(f"expected labels in {self.classes}, got {label!r}")
            out.append(self._index[label])
        return torch.tensor(out, dtype=torch.int64)

    def one_hot(self, labels: Sequence[str]) -> torch.Tensor:
        """One-hot targets, int64 tensor of shape (N, C) (``lossfns.functional.one_hot``)."""
        return one_hot(self.encode(labels), num_classes=len(self.classes))

    def decode(self, indices) -> list[str]:
        """Class names of class indices (ints or a 1-D integer tensor).

        Raises:
            ValueError: an index lies outside ``[0, C)``.
        """
        return decode_indices(self.classes, indices, "class indices")
