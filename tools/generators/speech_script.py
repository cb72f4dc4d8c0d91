"""Scripts for the noisy multi-speaker speech generator: who says what, and how to match
a free-text answer against it.

A script is built from templates whose slots are filled from seeded vocabularies (names,
places, times, days, numbers, items). Values are drawn without replacement and the
vocabularies share no words, so every value is spoken exactly once in a script: a
question about it has one answer, found in the script, never by recognising the audio.
"""

from __future__ import annotations

import random
import re
from typing import Any

NAMES: tuple[str, ...] = (
    "Maria", "David", "Sofia", "James", "Laura", "Peter", "Anna", "Thomas", "Emma", "Daniel",
    "Clara", "Oliver", "Nina", "Victor", "Alice", "Martin", "Helen", "Lucas", "Julia", "Simon",
    "Grace", "Oscar", "Irene", "Felix",
)  # fmt: skip
PLACES: tuple[str, ...] = (
    "the library", "the train station", "the museum", "the harbour", "the bakery",
    "the stadium", "the market square", "the post office", "the botanical garden",
    "the cinema", "the airport", "the town hall", "the bus depot", "the swimming pool",
    "the bookshop", "the old bridge",
)  # fmt: skip
# Spoken form → (hour, minute). No hour word here appears in NUMBERS.
TIMES: dict[str, tuple[int, int]] = {
    "half past seven": (7, 30),
    "nine o'clock": (9, 0),
    "a quarter to six": (5, 45),
    "noon": (12, 0),
    "ten thirty": (10, 30),
    "a quarter past two": (2, 15),
    "eight o'clock": (8, 0),
    "half past four": (4, 30),
    "three fifteen": (3, 15),
    "one o'clock": (1, 0),
}
DAYS: tuple[str, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip
NUMBERS: dict[str, int] = {
    "eleven": 11, "thirteen": 13, "fourteen": 14, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "forty": 40, "fifty": 50, "sixty": 60,
    "eighty": 80,
}  # fmt: skip
ITEMS: tuple[str, ...] = (
    "chairs", "umbrellas", "notebooks", "sandwiches", "lanterns", "blankets", "posters",
    "bottles of water", "folding tables", "flags",
)  # fmt: skip

INTROS: tuple[str, ...] = (
    "Hi, this is {name}.",
    "Hello everyone, {name} here.",
    "Hi all, it's {name}.",
)
STATEMENTS: dict[str, tuple[str, ...]] = {
    "meet": (
        "How about we meet at {place} at {time} on {day}?",
        "Let's meet at {place} on {day} at {time}.",
    ),
    "bring": ("I can bring {number} {item}.", "I will take care of {number} {item}."),
    "arrive": ("I will arrive at {place} at {time}.", "I should get to {place} around {time}."),
}
SLOTS: dict[str, tuple[str, ...]] = {
    "meet": ("place", "time", "day"),
    "bring": ("number", "item"),
    "arrive": ("place", "time"),
}
FILLERS: tuple[str, ...] = (
    "That sounds fine to me.",
    "Okay, I will write that down.",
    "Good idea.",
    "I am not completely sure, but let's try.",
    "Perfect, thank you.",
    "Could you repeat that more slowly?",
)
WHO_SAID: dict[str, str] = {
    "meet": "Who suggested meeting at {place}?",
    "bring": "Who offered to bring {number} {item}?",
    "arrive": "Who said they would arrive at {place}?",
}
KEY_INFO: dict[str, str] = {
    "meet": "Where, at what time and on which day did {name} suggest meeting?",
    "bring": "What did {name} offer to bring, and how many?",
    "arrive": "Where and at what time did {name} say they would arrive?",
}
QUESTION_KINDS: tuple[str, ...] = ("speaker_count", "who_said", "key_info")
COUNT_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}  # fmt: skip


class VocabularyPools:
    """Values still unused in this script, drawn without replacement."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[str, list[str]] = {
            "place": list(PLACES),
            "time": list(TIMES),
            "day": list(DAYS),
            "number": list(NUMBERS),
            "item": list(ITEMS),
        }
        for pool in self.pools.values():
            rng.shuffle(pool)

    def can_fill(self, kind: str) -> bool:
        return all(self.pools[slot] for slot in SLOTS[kind])

    def fill(self, kind: str) -> dict[str, str]:
        return {slot: self.pools[slot].pop() for slot in SLOTS[kind]}


def statement(rng: random.Random, pools: VocabularyPools) -> dict[str, Any] | None:
    kinds = [k for k in sorted(STATEMENTS) if pools.can_fill(k)]
    if not kinds:
        return None
    kind = rng.choice(kinds)
    values = pools.fill(kind)
    return {"kind": kind, "values": values, "text": rng.choice(STATEMENTS[kind]).format(**values)}


def build_script(rng: random.Random, speakers: int, turns: int) -> tuple[list[str], list[dict]]:
    """Speaker names and turns. Each speaker's first turn introduces them by name and makes
    a statement; later turns make a statement or a filler remark."""
    names = rng.sample(NAMES, speakers)
    pools = VocabularyPools(rng)
    order = list(range(speakers))
    rng.shuffle(order)
    while len(order) < turns:
        order.append(rng.choice([s for s in range(speakers) if s != order[-1]]))
    script: list[dict[str, Any]] = []
    introduced: set[int] = set()
    for speaker in order:
        fact = statement(rng, pools) if speaker not in introduced or rng.random() < 0.5 else None
        parts = []
        if speaker not in introduced:
            parts.append(rng.choice(INTROS).format(name=names[speaker]))
            introduced.add(speaker)
        parts.append(fact["text"] if fact else rng.choice(FILLERS))
        script.append(
            {
                "speaker": speaker,
                "text": " ".join(parts),
                "fact": {"kind": fact["kind"], "values": fact["values"]} if fact else None,
            }
        )
    return names, script


def make_question(
    rng: random.Random, kind: str, names: list[str], script: list[dict]
) -> tuple[dict[str, Any], Any]:
    """A question about the script and its answer (int, name, or slot → value)."""
    if kind == "speaker_count":
        return {"kind": kind, "text": "How many different people speak in this recording?"}, len(
            names
        )
    facts = [i for i, t in enumerate(script) if t["fact"]]
    if kind == "who_said":
        turn = rng.choice(facts)
        fact = script[turn]["fact"]
        text = WHO_SAID[fact["kind"]].format(**fact["values"])
        return {"kind": kind, "text": text, "turn": turn}, names[script[turn]["speaker"]]
    # key_info: a speaker's statement of a kind they made only once
    candidates = []
    for i in facts:
        speaker, fact_kind = script[i]["speaker"], script[i]["fact"]["kind"]
        same = [
            j
            for j in facts
            if script[j]["speaker"] == speaker and script[j]["fact"]["kind"] == fact_kind
        ]
        if same == [i]:
            candidates.append(i)
    turn = rng.choice(candidates)
    fact = script[turn]["fact"]
    name = names[script[turn]["speaker"]]
    text = KEY_INFO[fact["kind"]].format(name=name)
    return {"kind": kind, "text": text, "turn": turn, "speaker": script[turn]["speaker"]}, dict(
        fact["values"]
    )


# ------------------------------------------------------------------------ matching


def normalise(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9:']+", " ", text.lower()).strip() + " "


def mentions(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs as whole words in ``text`` (case and punctuation ignored)."""
    return normalise(phrase) in normalise(text)


def count_mentions(text: str, phrase: str) -> int:
    return normalise(text).count(normalise(phrase))


def time_matches(answer: str, spoken: str) -> bool:
    """'half past seven', '7:30', '7.30' or '19:30' all name 7:30."""
    if mentions(answer, spoken):
        return True
    hour, minute = TIMES[spoken]
    for h, m in re.findall(r"\b(\d{1,2})[:.](\d{2})\b", answer):
        if int(h) % 12 == hour % 12 and int(m) == minute:
            return True
    if minute == 0:
        for h in re.findall(r"\b(\d{1,2})\s*(?:o'clock|am|pm|a\.m\.|p\.m\.)", answer.lower()):
            if int(h) % 12 == hour % 12:
                return True
    return False


def value_matches(slot: str, answer: str, value: str) -> bool:
    if slot == "time":
        return time_matches(answer, value)
    if slot == "place":
        return mentions(answer, value.removeprefix("the "))
    if slot == "number":
        return mentions(answer, value) or mentions(answer, str(NUMBERS[value]))
    return mentions(answer, value)


def parse_count(answer: str) -> int | None:
    """The first number in an answer, as digits or a word."""
    for token in normalise(answer).split():
        if token.isdigit():
            return int(token)
        if token in COUNT_WORDS:
            return COUNT_WORDS[token]
    return None
