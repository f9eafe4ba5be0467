"""Compare a transcript with the sentence that was spoken, robustly to case and punctuation."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def words(text: str) -> list[str]:
    """Lower-case words of ``text``, punctuation dropped (apostrophes inside words kept)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def word_overlap(reference: str, hypothesis: str) -> float:
    """Fraction of the reference's words (with repeats) found in the hypothesis; 0.0 if empty."""
    ref = words(reference)
    if not ref:
        return 0.0
    hyp = set(words(hypothesis))
    return sum(w in hyp for w in ref) / len(ref)
