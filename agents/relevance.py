"""Does a dataset ask what a subtask tests? A cue-word check of its sampled questions (free).

A small model grounds a causal-reasoning subtask on a reading-comprehension dataset whose
card says "many questions involve causal reasoning", and the items then ask "Which singer
made a hit record…?". Grounding reads a handful of the dataset's own questions first: a
question is on-target when it uses a cue of the subtask's capability — a cue of the
capability family the subtask's words name (cause and effect: "why", "because", "lead to",
"result"…), or else a content word of its name or capability. A dataset whose sampled
questions are mostly off-target is filtered before any plan is asked for. A narrower family
(scheduling, of time) keeps its questions apart from the broader one's, and the run's
requirement decides between the families one subtask names. For a subtask about everyday
life, a dataset is also held to the everyday register on all its sampled items present.

A dataset without a question field asks what its card says it asks: its description and
task names stand for its questions. A built-in generator asks what its items ask: a few of
them rendered with fixed seeds stand for its questions (its card says "causal reasoning" of
collision frames, whose items ask "which frame comes next"; a hand labelling agrees better
with the rendered items). `perf/relevance.py` prints how both agree with a hand labelling of
the pool's datasets and generators.
"""

from __future__ import annotations

import functools
import re
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import structlog
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from agents.realize import as_text
from agents.register import REGISTER_SHARE, names_everyday, off_register
from store.events import DatasetRelevance, Subtask
from tools.cards import DatasetCard
from tools.generators.base import RenderedItem
from tools.generators.registry import get_generator
from tools.pool import Pool, SourceItem
from tools.stemming import stem_words

log = structlog.get_logger(__name__)

ON_TARGET_SHARE = 0.5  # a dataset is kept when at least this share of its questions is on-target
SAMPLED_QUESTIONS = 12
SAMPLED_REGISTER = 40  # an everyday share near a tenth needs more than a dozen to tell
SAMPLED_RENDERED = 6  # a generator's items vary less than a dataset's, and render slower

# Words any subtask may use whatever it tests: they cannot tell one capability from another.
_GENERIC = frozenset({
    "abil", "about", "analys", "analyz", "answer", "assess", "benchmark", "choic", "choos",
    "correct", "determin", "evalu", "event", "everyday", "given", "identif", "identifi",
    "infer", "item", "model", "multipl", "pick", "predict", "question", "reason", "select",
    "short", "skill", "task", "test", "text", "understand",
})


class _Family(NamedTuple):
    names: frozenset[str]  # stems that name the family in a subtask
    cues: tuple[str, ...]  # words its questions use
    narrows: str | None = None  # the broader family it is a case of


# Capability families: the stems that name one in a subtask, and the cues its questions use.
_FAMILIES: dict[str, _Family] = {
    "cause and effect": _Family(
        frozenset({"caus", "causal", "effect", "consequ", "impact", "why", "counterfactu"}),
        ("why", "because", "cause", "caused", "causes", "effect", "effects", "result",
         "resulted", "lead", "led", "leads", "due", "consequence", "consequences", "outcome",
         "affect", "affected", "happen", "happened", "therefore"),
    ),
    "time": _Family(
        frozenset({"tempor", "time", "durat", "sequenc", "order", "chronolog", "span"}),
        ("when", "before", "after", "long", "duration", "time", "temporal", "first", "then",
         "during", "until", "while", "order", "hours", "minutes", "days", "weeks", "years"),
    ),
    # Finding a meeting slot is a case of time that time's cues cannot tell apart: the 1.5B's
    # "Identify the participants' calendar constraints" ("…dates and times each participant
    # is available") took everyday-dialogue duration clozes, whose options are all times.
    "scheduling": _Family(
        frozenset({"calendar", "schedul", "meet", "appoint", "avail"}),
        ("calendar", "calendars", "schedule", "schedules", "scheduling", "meeting", "meetings",
         "appointment", "appointments", "available", "availability", "slot", "slots",
         "participants", "attendees"),
        narrows="time",
    ),
    "people": _Family(
        frozenset({"social", "feel", "emot", "react", "motiv", "intent", "mental"}),
        ("feel", "felt", "feels", "react", "want", "wants", "why", "motive", "intend",
         "emotion", "others", "happen", "next", "need"),
    ),
}
_WORD = re.compile(r"[a-z]+")


def stems(text: str) -> set[str]:
    return set(stem_words(_WORD.findall(text.lower())))


# Each family's cues as the stems a question is matched on.
_CUE_STEMS = {key: frozenset(stems(" ".join(f.cues))) for key, f in _FAMILIES.items()}


def own_stems(sub: Subtask) -> frozenset[str]:
    """The content stems of a subtask's name and capability (what it names, not how)."""
    words = _WORD.findall(f"{sub.name} {sub.capability}".lower())
    return frozenset(s for s in stem_words(w for w in words if w not in ENGLISH_STOP_WORDS)
                     if len(s) >= 3) - _GENERIC


def capability_cues(sub: Subtask, requirement: str = "") -> frozenset[str]:
    """The stems whose presence makes a question on-target for `sub` (empty: cannot tell).

    When the subtask's words name a capability family, its questions are told by that
    family's cues (a subtask's other words, "relationships", "validity", would match any
    question that uses them); otherwise by the subtask's own content words. A family its
    name or capability names stands in for the broader family it narrows: a scheduling
    subtask described in "dates and times" is not told by every question about time.
    Where it names several, the requirement decides: the families whose cues it uses most
    ("Analyze the impact of different event types on duration", under "…when everyday
    events happen and how long they last", is about time, not cause and effect)."""
    own = own_stems(sub)
    described = stems(sub.description)
    named = {key for key, family in _FAMILIES.items()
             if own & family.names or described & family.names}
    named -= {_FAMILIES[key].narrows for key in named if own & _FAMILIES[key].names}
    named = _asked_for(named, stems(requirement))
    cues: set[str] = set()
    for key in named:
        cues |= _CUE_STEMS[key] | (own & _FAMILIES[key].names)
    return frozenset(cues or own)


def _asked_for(named: set[str], requirement: set[str]) -> set[str]:
    """Of several named families, those whose cues the requirement uses most (all of them
    when it uses none)."""
    uses = {key: len(requirement & (_CUE_STEMS[key] | _FAMILIES[key].names)) for key in named}
    most = max(uses.values(), default=0)
    return {key for key, n in uses.items() if n == most} if most else named


def narrower_cues(sub: Subtask, requirement: str = "") -> frozenset[str]:
    """The cues of the narrower families of those that tell `sub`'s questions, unless `sub`
    names them too: a question about a meeting slot is scheduling, not a case of when
    everyday events happen (the calendar generator filled half of a temporal build)."""
    cues = capability_cues(sub, requirement)
    return frozenset().union(*(
        _CUE_STEMS[key] for key, family in _FAMILIES.items()
        if family.narrows is not None and not cues & family.names
        and _CUE_STEMS[family.narrows] <= cues))


def card_asks(card: DatasetCard) -> str:
    """What a dataset without questions asks, by its card."""
    return f"{card.description} {' '.join(t.replace('_', ' ') for t in card.tasks)}"


def spread_items(pool: Pool, dataset_id: str, n: int) -> list[SourceItem]:
    """`n` items spread evenly over the dataset (the same ones on every call)."""
    items = pool.items(dataset_id)
    return [items[i * len(items) // n] for i in range(min(n, len(items)))]


def _sampled(pool: Pool, card: DatasetCard, n: int) -> list[tuple[str, str]]:
    """(question, question and options) of `n` items spread evenly over the dataset."""
    out = []
    for item in spread_items(pool, card.dataset_id, n):
        value = item.fields.get("question")
        if isinstance(value, str) and value.strip():
            options = [str(o) for role in ("options", "choices")
                       if isinstance(item.fields.get(role), list) for o in item.fields[role]]
            out.append((value.strip(), " ".join([value.strip(), *options])))
    return out


def sampled_questions(pool: Pool, card: DatasetCard, n: int = SAMPLED_QUESTIONS) -> list[str]:
    """The questions of `n` items spread evenly over the dataset (its card's words when it
    has no question field)."""
    if "question" not in card.meta.fields:
        return [card_asks(card)]
    return [q for q, _ in _sampled(pool, card, n)] or [card_asks(card)]


def sampled_presented(pool: Pool, card: DatasetCard, n: int = SAMPLED_REGISTER) -> list[str]:
    """Everything `n` sampled items present in text: every field but their media, the
    passage and the dialogue as well as the question and options."""
    text_roles = [r for r in card.meta.fields if r not in card.media_roles()]
    return [" ".join(as_text(item.fields[r]) for r in text_roles if r in item.fields)
            for item in spread_items(pool, card.dataset_id, n)]


def _off_register(texts: Sequence[str]) -> tuple[str, ...]:
    """Why each text is off the everyday register, after its start ("" when it is not)."""
    return tuple(f"{text[:100]} [{why[:100]}]" if (why := off_register(text)) else ""
                 for text in texts)


# Per pool (held weakly: tests load many), per dataset.
_REGISTER_OF: weakref.WeakKeyDictionary[Pool, dict[str, tuple[str, ...]]] = \
    weakref.WeakKeyDictionary()


def _off_register_items(pool: Pool, dataset_id: str) -> tuple[str, ...]:
    """`_off_register` of a dataset's sampled items: the same for every subtask, so measured
    once per dataset."""
    known = _REGISTER_OF.setdefault(pool, {})
    if dataset_id not in known:
        known[dataset_id] = _off_register(sampled_presented(pool, pool.card(dataset_id)))
    return known[dataset_id]


# What an item's media are, in the words a subtask uses for them.
_MEDIA_WORDS = {".png": "image", ".jpg": "image", ".jpeg": "image", ".wav": "audio",
                ".mp3": "audio", ".mp4": "video"}


@functools.cache
def rendered_questions(generator: str, n: int = SAMPLED_RENDERED) -> tuple[str, ...]:
    """What a built-in generator's items ask: `n` of them rendered with seeds 0..n-1 and
    default parameters, as the Orchestrator renders them, each followed by the kinds of its
    media (an item says "listen to the recording", its subtask says "audio"); empty: it
    cannot render here."""
    def asked(rendered: RenderedItem) -> str:
        kinds = sorted({_MEDIA_WORDS.get(Path(m).suffix.lower(), "") for m in rendered.media})
        return " ".join([rendered.input, *(k for k in kinds if k)])

    try:
        gen = get_generator(generator)
        with tempfile.TemporaryDirectory(prefix="benchagent-relevance-") as tmp:
            return tuple(asked(gen.render(gen.sample(seed), Path(tmp))) for seed in range(n))
    except Exception as exc:  # any failure: measured by its card instead
        log.warning("relevance.render_failed", generator=generator, reason=repr(exc))
        return ()


def generator_questions(card: DatasetCard) -> list[str]:
    """A generator's rendered questions (its card's words when it cannot render)."""
    assert card.generator is not None
    return list(rendered_questions(card.generator)) or [card_asks(card)]


# The words by which a requirement or subtask asks for a modality other than text.
_MODALITY_WORDS: dict[str, re.Pattern[str]] = {
    "image": re.compile(r"\b(images?|pictures?|photos?|photographs?|visual(ly)?|vision|"
                        r"diagrams?|charts?|figures?|screenshots?|drawings?|paintings?|"
                        r"artworks?|scans?)\b", re.IGNORECASE),
    "audio": re.compile(r"\b(audio|speech|spoken|sounds?|listen(ing)?|recordings?|voices?|"
                        r"music)\b", re.IGNORECASE),
    "video": re.compile(r"\b(videos?|clips?|footage|movies?)\b", re.IGNORECASE),
}


def named_modalities(preferred: list[str], words: str) -> list[str]:
    """The preferred modalities that `words` (the requirement and the subtask) ask for: text
    always, a medium only where named. The 1.5B preferred text+image for "when everyday
    events happen and how long they last", and grounding then took a dataset of maths
    word problems in pictures."""
    kept = [m for m in preferred
            if m == "text" or (m in _MODALITY_WORDS and _MODALITY_WORDS[m].search(words))]
    return kept or ["text"]


def on_target(question: str, cues: frozenset[str]) -> bool:
    return bool(stems(question) & cues)


def relevance(sub: Subtask, card: DatasetCard, pool: Pool, requirement: str = "",
              threshold: float = ON_TARGET_SHARE) -> DatasetRelevance | None:
    """The dataset's (or generator's) relevance to the subtask under the run's requirement
    (None: not measured — a subtask whose words name no cue)."""
    cues = capability_cues(sub, requirement)
    if not cues:
        return None
    questions = (generator_questions(card) if card.generator
                 else sampled_questions(pool, card))
    by_card = questions == [card_asks(card)]
    narrower = narrower_cues(sub, requirement)
    # A generator's items name what they ask in the subtask's own words too ("the next
    # frame"), or in its family's cues.
    told = cues | own_stems(sub) if card.generator else cues
    hits = [on_target(q, told) and not on_target(q, narrower) for q in questions]
    off = [q[:120] for q, hit in zip(questions, hits, strict=True) if not hit]
    if card.generator and (not on_target(card_asks(card), cues)
                           or on_target(card_asks(card), narrower)):
        # Its rendered instructions use many words ("step by step", "time steps t1-t4",
        # "next state"); what it is made to test must be on-target too.
        hits = [False] * len(hits)
        off = [f"(its card: {card_asks(card)[:100]})"]
    share = sum(hits) / len(hits)
    kept = share >= threshold
    register = None
    if names_everyday(sub) and not (card.generator and by_card):
        # Everyday events are told in common words (agents/register.py). A dataset is held to
        # it on all its items tell: news passages (TimeBank's "outstripped", "complied")
        # under everyday questions ("Is the first event before the second?") are not
        # everyday life. The item check then reads what one item asks and offers, so a rare
        # word in a long dialogue of a dataset kept here does not cost the item.
        why = (_off_register(questions) if card.generator
               else _off_register_items(pool, card.dataset_id))
        if why:
            register = round(sum(not w for w in why) / len(why), 3)
            if kept and register < REGISTER_SHARE:
                kept = False
                off = [w for w in why if w]
    return DatasetRelevance(dataset_id=card.dataset_id, on_target=round(share, 3),
                            sampled=len(hits), kept=kept, examples=off[:2], register=register)
