"""Synthetic corpora for the benchmark and the parity tests: Zipf-distributed made-up words.

Every word has the same length and is its own stem, so each passage's analysed terms are exactly its
words: rank-bm25 and SearchIndex see the same tokens, and no word is a prefix of another.
"""

from __future__ import annotations

import numpy as np

from search import Article, Passage
from search.analysis import Analyzer

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aiou"


def vocabulary(size: int, seed: int = 7) -> list[str]:
    """`size` distinct 8-letter words (CVCVCVCV) that the analyser leaves unchanged."""
    rng = np.random.default_rng(seed)
    analyzer = Analyzer()
    words: dict[str, None] = {}
    while len(words) < size:
        cons = rng.integers(0, len(CONSONANTS), size=(size, 4))
        vows = rng.integers(0, len(VOWELS), size=(size, 4))
        for c, v in zip(cons, vows, strict=True):
            word = "".join(CONSONANTS[a] + VOWELS[b] for a, b in zip(c, v, strict=True))
            if word not in words and analyzer.terms(word, "en") == [word]:
                words[word] = None
                if len(words) == size:
                    break
    return list(words)


def zipf_probabilities(size: int, exponent: float = 1.07) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return weights / weights.sum()


def passages(n: int, vocab: list[str], seed: int = 11, mean_tokens: int = 60) -> list[list[str]]:
    """`n` passages of about `mean_tokens` words drawn from a Zipf distribution over `vocab`."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.normal(mean_tokens, mean_tokens / 4, size=n).astype(int), 10, 3 * mean_tokens)
    ranks = rng.choice(len(vocab), size=int(lengths.sum()), p=zipf_probabilities(len(vocab)))
    words = np.array(vocab)[ranks]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [words[bounds[i] : bounds[i + 1]].tolist() for i in range(n)]


def queries(n: int, vocab: list[str], seed: int = 13, skip_top: int = 50) -> list[list[str]]:
    """Queries of 1 to 4 words drawn by frequency, leaving out the `skip_top` most frequent words:
    in real text those are stop words, which the analyser removes from queries."""
    rng = np.random.default_rng(seed)
    probabilities = zipf_probabilities(len(vocab))[skip_top:]
    probabilities /= probabilities.sum()
    lengths = rng.integers(1, 5, size=n)
    return [
        [vocab[skip_top + int(r)] for r in rng.choice(len(probabilities), size=k, p=probabilities)]
        for k in lengths
    ]


def article(article_id: str, texts: list[list[str]]) -> Article:
    """An article whose passages are the given word lists (one passage each)."""
    return Article(
        id=article_id,
        title=f"Synthetic {article_id}",
        source=f"{article_id}.txt",
        text="\n\n".join(" ".join(words) for words in texts),
        passages=tuple(
            Passage(article_id=article_id, position=i, text=" ".join(words)) for i, words in enumerate(texts)
        ),
    )
