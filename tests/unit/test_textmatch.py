"""Word overlap between a reference sentence and a transcript."""

from voxswitch.textmatch import word_overlap, words


def test_words_ignore_case_and_punctuation():
    assert words("Hello, World! It's   fine.") == ["hello", "world", "it's", "fine"]
    assert words("It\u2019s") == ["it's"]


def test_overlap_is_the_fraction_of_reference_words_heard():
    assert word_overlap("the cat sat", "The cat sat.") == 1.0
    assert word_overlap("the cat sat", "a cat stood") == 1 / 3
    assert word_overlap("the cat sat", "") == 0.0
    assert word_overlap("", "anything") == 0.0


def test_extra_words_in_the_hypothesis_do_not_lower_the_score():
    assert word_overlap("red kite", "a red kite flew far away") == 1.0
