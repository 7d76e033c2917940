"""A token ↔ index vocabulary with an ``<unk>`` entry for unseen tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = ["UNK_TOKEN", "Vocabulary"]

UNK_TOKEN = "<unk>"


class Vocabulary:
    """Maps tokens to consecutive indices; index 0 is ``<unk>`` (any out-of-vocabulary token).

    Build it from training data with :meth:`build`; rebuild a saved one with
    ``Vocabulary(saved.tokens)``.

    Args:
        tokens: the entries in index order; must start with ``'<unk>'`` and have no duplicates.

    Raises:
        ValueError: ``tokens`` is empty, does not start with ``'<unk>'`` or repeats an entry.

    Example:
        >>> vocab = Vocabulary.build([["good", "film"], ["bad", "film"]])
        >>> vocab.tokens
        ['<unk>', 'film', 'bad', 'good']
        >>> vocab.encode(["good", "popcorn"])
        [3, 0]
        >>> vocab.decode([3, 0]), len(vocab)
        (['good', '<unk>'], 4)
    """

    unk_index = 0

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if not tokens or tokens[0] != UNK_TOKEN:
            raise ValueError(f"expected a token list that starts with {UNK_TOKEN!r}, got {tokens[:3]}")
        self._index = {token: i for i, token in enumerate(tokens)}
        if len(self._index) != len(tokens):
            repeated = sorted(t for t, n in Counter(tokens).items() if n > 1)
            raise ValueError(f"expected distinct tokens, got repeated tokens {repeated[:5]}")
        self._tokens = tokens

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], *, min_freq: int = 1,
              max_size: int | None = None) -> Vocabulary:
        """Collect the tokens of a corpus, most frequent first.

        A token's frequency is its total number of occurrences over all token lists. Tokens
        seen fewer than ``min_freq`` times are left out (they will encode as ``<unk>``). Order:
        ``<unk>`` first, then frequency descending, ties broken alphabetically, so the same
        corpus always gives the same indices whatever the order of its texts.

        Args:
            token_lists: one list of tokens per text (the training texts only, never the test).
            min_freq: minimum number of occurrences to enter the vocabulary (>= 1).
            max_size: maximum number of entries including ``<unk>`` (>= 1), or ``None`` for no
                limit; the least frequent tokens are cut.

        Returns:
            The vocabulary.

        Raises:
            ValueError: ``min_freq < 1`` or ``max_size < 1``; a token list is a plain string
                (pass tokenised texts, not raw texts); a corpus token equals ``'<unk>'``.

        Example:
            >>> Vocabulary.build([["a", "b", "b"], ["c", "b", "a"]], min_freq=2).tokens
            ['<unk>', 'b', 'a']
        """
        if min_freq < 1:
            raise ValueError(f"expected min_freq >= 1, got {min_freq}")
        if max_size is not None and max_size < 1:
            raise ValueError(f"expected max_size >= 1 or None, got {max_size}")
        counts: Counter = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise ValueError(f"expected a list of tokens per text, got the string {tokens[:30]!r}; "
                                 f"tokenize the texts first")
            counts.update(tokens)
        if UNK_TOKEN in counts:
            raise ValueError(f"expected corpus tokens other than the reserved {UNK_TOKEN!r}, got it "
                             f"{counts[UNK_TOKEN]} times")
        kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size - 1]
        return cls([UNK_TOKEN, *kept])

    @property
    def tokens(self) -> list[str]:
        """All entries in index order (a copy), ``tokens[0] == '<unk>'``."""
        return list(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)}, first={self._tokens[1:6]})"

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Indices of ``tokens``; unknown tokens give ``unk_index`` (0)."""
        if isinstance(tokens, str):
            raise ValueError(f"expected a list of tokens, got the string {tokens[:30]!r}; tokenize it first")
        return [self._index.get(token, self.unk_index) for token in tokens]

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Tokens at ``indices`` (ints or a 1-D integer tensor).

        Raises:
            ValueError: an index lies outside ``[0, len(self))``.
        """
        return decode_indices(self._tokens, indices, "indices")


def decode_indices(items: Sequence[str], indices: Iterable[int], what: str) -> list[str]:
    """``items[i]`` for each index i (ints or a 1-D integer tensor); ValueError names ``what`` when out of
    range."""
    out = []
    for i in indices:
        i = int(i)
        if not 0 <= i < len(items):
            raise ValueError(f"expected {what} in [0, {len(items) - 1}], got {i}")
        out.append(items[i])
    return out
