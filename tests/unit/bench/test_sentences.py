"""Whose sentence is a transcript: the cross-talk classification."""

import itertools

from voxswitch.bench.sentences import (
    SENTENCES,
    Verdict,
    distinct_sentences,
    judge,
    sentences_for,
)
from voxswitch.textmatch import word_overlap

OWN = "The red kite flew over the quiet harbor this morning."
OTHER = "Please book a table for dinner at seven tonight."
THIRD = "Elephants remember faces for many years."


def test_own_sentence_with_recognition_slips():
    j = judge("the red kite flew over a quiet harbour this morning", OWN, [OTHER, THIRD])
    assert j.verdict is Verdict.OWN
    assert j.own_score > 0.7 and j.other_score < 0.5


def test_another_callers_sentence_is_cross_talk():
    j = judge("Please book a table for dinner at seven tonight.", OWN, [OTHER, THIRD])
    assert j.verdict is Verdict.CROSS_TALK
    assert j.other_sentence == OTHER and j.other_score == 1.0


def test_mixed_speech_of_two_callers_is_cross_talk():
    j = judge(f"{OWN} {THIRD}", OWN, [OTHER, THIRD])
    assert j.verdict is Verdict.CROSS_TALK
    assert j.own_score == 1.0


def test_unrecognisable_and_missing():
    assert judge("uh hmm", OWN, [OTHER]).verdict is Verdict.UNCLEAR
    assert judge(None, OWN, [OTHER]).verdict is Verdict.MISSING
    assert judge("  ...  ", OWN, [OTHER]).verdict is Verdict.MISSING


def test_identical_sentence_of_another_caller_is_not_evidence():
    assert judge(OWN, OWN, [OWN.upper(), OTHER]).verdict is Verdict.OWN


def test_sentences_are_mutually_distinguishable():
    worst = max(word_overlap(a, b) for a, b in itertools.permutations(SENTENCES, 2))
    assert worst < 0.4  # well under the 0.5 attribution threshold
    assert len(set(SENTENCES)) == len(SENTENCES)


def test_every_caller_gets_its_own_sentences():
    callers, turns = 8, 3
    said = [s for i in range(callers) for s in sentences_for(i, turns, callers)]
    assert len(said) == len(set(said)) == callers * turns
    assert distinct_sentences(callers, turns)
    assert not distinct_sentences(len(SENTENCES), 2)
    assert sentences_for(0, 2, 1) == sentences_for(0, 2, 50)
