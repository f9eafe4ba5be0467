"""What each simulated caller says, and how a transcript is judged against it.

Every caller speaks sentences no other caller in the same step speaks, drawn
from a list whose sentences share few words, so a transcript can be told
apart: if the server returns words of *another* caller's sentence, that is
cross-talk — the failure voxswitch exists to prevent, and the bench must see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from voxswitch.textmatch import word_overlap, words

# Plain words Whisper spells one way (no digits, few names); pairwise word overlap is low
# (checked by a unit test), which is what makes a stray transcript attributable.
SENTENCES: tuple[str, ...] = (
    "The red kite flew over the quiet harbor this morning.",
    "Please book a table for dinner at seven tonight.",
    "My favorite season is autumn because the leaves turn golden.",
    "How long does the train ride from Paris to Berlin take?",
    "The library closes early on Sundays during summer.",
    "Bananas and strawberries make a very good breakfast smoothie.",
    "Turn off the kitchen lights before you go to sleep.",
    "Our team meeting has moved to Thursday afternoon.",
    "Can you remind me to water the tomato plants?",
    "Heavy snow blocked every mountain road near the village.",
    "Grandmother baked fresh bread with rosemary and olive oil.",
    "Which museum shows ancient Egyptian statues and pottery?",
    "Put the blue umbrella next to the front door.",
    "Elephants remember faces for many years.",
    "What is the weather forecast for tomorrow in London?",
    "Send my sister a birthday card with balloons.",
    "A small wooden boat drifted slowly down the river.",
    "I lost my car keys somewhere inside the shopping mall.",
    "Chess players need patience, memory and careful planning.",
    "Tell me a joke about penguins wearing sunglasses.",
    "The violin concert starts right after the intermission.",
    "Fresh coffee smells wonderful on cold winter mornings.",
    "Does this pharmacy sell vitamins and cough syrup?",
    "Volcanic islands often have black sandy beaches.",
    "Remember buying milk, eggs, butter and flour.",
    "Why do cats purr when somebody strokes them?",
    "The electrician fixed our broken garage heater yesterday.",
    "Lighthouses guided sailors safely along rocky coastlines.",
    "Could you translate hello into Japanese?",
    "Maple syrup comes from trees tapped in early spring.",
    "Our neighbor plays loud drums every Saturday.",
    "How do honeybees find flowers far away?",
    "Wear gloves when gardening around thorny roses.",
    "Our pilot announced turbulence above Greenland.",
    "Jupiter has dozens of moons circling it.",
    "Schedule a dentist appointment next Wednesday.",
    "Children built snowmen with striped scarves.",
    "What rhymes with orange besides nothing?",
    "Dolphins sleep with one eye open.",
    "Pack sunscreen, towels and sandals for the beach trip.",
    "The bakery downtown sells excellent cinnamon rolls.",
    "Is it safe to swim after eating lunch?",
    "Thunderstorms knocked out electricity across town.",
    "My brother collects vintage stamps from Brazil.",
    "Explain photosynthesis using simple words.",
    "A hungry fox crept quietly past sleeping chickens.",
    "Order pizza with mushrooms, peppers and extra cheese.",
    "Glaciers carved these deep valleys long ago.",
    "Where did I park my bicycle this afternoon?",
    "Astronauts exercise daily aboard space stations.",
    "Knitting sweaters keeps grandpa busy during evenings.",
    "Which planet spins fastest around its axis?",
    "Bring warm blankets because nights get chilly.",
    "Owls hunt mice silently under moonlight.",
    "Cancel tomorrow's yoga class, my knee hurts.",
    "Pirates buried treasure beneath palm trees.",
    "Recommend some relaxing jazz music.",
    "Kangaroos carry babies inside pouches.",
    "Whose turn is washing dishes tonight?",
    "Sunflowers follow sunlight across meadows.",
    "Reset my password, I forgot it again.",
    "Ancient Romans built aqueducts carrying water.",
    "Hurricanes form above warm tropical seas.",
    "Polish silver spoons before guests arrive.",
)

# A short word that makes a VAD fire: the listening-mode probe.
PROBE_TEXT = "Hello."


def sentences_for(caller: int, turns: int, callers: int) -> list[str]:
    """The sentences caller ``caller`` (0-based) speaks, one per turn.

    Distinct across the step's callers and turns as long as ``callers * turns``
    fits in :data:`SENTENCES`; beyond that, sentences repeat (see
    :func:`distinct_sentences`).
    """
    del callers  # the layout is caller-major, so no caller's set depends on the count
    n = len(SENTENCES)
    return [SENTENCES[(caller * turns + t) % n] for t in range(turns)]


def distinct_sentences(callers: int, turns: int) -> bool:
    return callers * turns <= len(SENTENCES)


class Verdict(StrEnum):
    OWN = "own"  # the transcript is this caller's sentence
    CROSS_TALK = "cross_talk"  # it carries another caller's sentence
    UNCLEAR = "unclear"  # neither: misrecognised
    MISSING = "missing"  # no final transcript arrived


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    own_score: float
    other_score: float
    other_sentence: str | None = None


def judge(
    transcript: str | None,
    own: str,
    others: Sequence[str],
    *,
    threshold: float = 0.5,
) -> Judgement:
    """Attribute ``transcript`` to the caller's own sentence or to another caller's.

    Another caller's sentence matching at or above ``threshold`` is cross-talk
    even when the caller's own sentence matches too: a transcript that mixes two
    callers' speech is exactly the leak the bench looks for.
    """
    if transcript is None or not words(transcript):
        return Judgement(Verdict.MISSING, 0.0, 0.0)
    own_score = word_overlap(own, transcript)
    own_words = words(own)
    best_score, best_other = 0.0, None
    for other in others:
        if words(other) == own_words:
            continue  # the same sentence said by two callers cannot be told apart
        score = word_overlap(other, transcript)
        if score > best_score:
            best_score, best_other = score, other
    if best_score >= threshold:
        return Judgement(Verdict.CROSS_TALK, own_score, best_score, best_other)
    if own_score >= threshold:
        return Judgement(Verdict.OWN, own_score, best_score, best_other)
    return Judgement(Verdict.UNCLEAR, own_score, best_score, best_other)
