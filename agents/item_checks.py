"""Programmatic checks of a realized item, made before any model is asked (free, deterministic).

Each check returns a verdict with its reason; `check_item` runs them all on a
`BenchmarkItem` (and the plan it was realized with, when there is one). They catch
what a small model pays two or three calls to reject, or lets through:

- `placeholder`: a template placeholder left unfilled ("What is the cause of {event}?",
  "{{x}}", "[PLACEHOLDER]", a source's "<<<raw_text>>>") in the question, the instruction,
  an option or the answer;
- `truncated_option`: an option cut off mid-sentence ("...Climate Change (IPCC), which,"),
  or a span of the context that stops inside a word ("…that you nee");
- `duplicate_option`: two options that say the same thing;
- `answer_in_question`: the answer's text (two words or more) stated by the question;
- `answer_is_premise`: the answer restates the event the question asks about;
- `dangling_premise`: that event opens with a connective ("But the students can't
  understand the example"): it answers a sentence the item does not show;
- `too_few_options`: a multiple-choice item with fewer than two options;
- `empty_context`: the plan feeds a passage or context into the item, and the item has none;
- `boilerplate`: scraped page furniture in a passage (copyright footers, cookie banners,
  "Click here", "share this post", navigation bars, HTML tags, Q&A-site prompts);
- `offensive`: a slur or profanity, found with the Blasp word list (`profy-filter`):
  slurs (its "extreme" tier) anywhere in the item; moderate or worse words in what the
  item asks and offers (question, options, answer). Passages may quote rude speech;
- `register` (only for a subtask whose words name everyday life): a rare, technical word in
  what the item asks and offers ("enantiomers", "radiolarian"; `agents.register`).

For Grounding, `unfillable_placeholders` names the placeholders of a question template that
the card's roles cannot fill, so such a plan is refused before any item is built.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

import msgspec

from agents.register import off_register
from store.events import BenchmarkItem, ItemCheckName, TransformationPlan
from tools.stemming import stem


class ItemCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One programmatic check's verdict on an item."""

    check: ItemCheckName
    passed: bool
    reason: str


def _verdict(check: ItemCheckName, problems: Sequence[str], ok: str) -> ItemCheck:
    if problems:
        return ItemCheck(check=check, passed=False, reason="; ".join(problems))
    return ItemCheck(check=check, passed=True, reason=ok)


# --------------------------------------------------------------------------- item parts

# Roles that are the question or its options; any other text role of a plan is a context.
_QUESTION_ROLES = ("question", "options", "choices", "prompt", "instruction")


def question_of(item: BenchmarkItem) -> str:
    """The question the evaluated model sees (its last "Question:" line)."""
    question = item.metadata.get("question")
    if isinstance(question, str) and question.strip():
        return question.strip()
    _, found, tail = item.input.rpartition("Question:")
    return tail.strip() if found else ""


def answer_texts(item: BenchmarkItem) -> list[str]:
    """The answer as text: the correct option's text, or the target and its variants."""
    meta = item.metadata
    texts: list[str] = []
    if item.choices is not None:
        text = meta.get("answer_text")
        if isinstance(text, str):
            texts.append(text)
        elif len(item.target) == 1 and item.target.isalpha():
            index = ord(item.target.upper()) - ord("A")
            if 0 <= index < len(item.choices):
                texts.append(item.choices[index])
    else:
        texts.append(item.target)
        texts += [str(a) for a in meta.get("acceptable_answers", []) if str(a) != item.target]
    return [t for t in texts if t.strip()]


# --------------------------------------------------------------------------- placeholders

# "{event}", "{{ x }}", "{sample text}": braces around a short name. Not LaTeX ("\frac{a}{b}",
# "x^{2}") nor JSON ('{"a": 1}'): the brace must not follow a word character, backslash, `$`,
# `^`, `_` or another closing brace, and the name holds no quotes or colons.
_BRACED = re.compile(r"(?<![\w\\$^_}])\{\{?\s*([A-Za-z][A-Za-z0-9_ .-]{0,40}?)\s*\}\}?")
# "[PLACEHOLDER]", "[EVENT_1]", "[insert cause here]", "<your answer>", "<placeholder>".
_BRACKETED = re.compile(
    r"\[\s*([A-Z][A-Z0-9_ ]{2,40})\s*\]"
    r"|[\[<]\s*((?:insert|your|placeholder|todo|tbd|fill in)\b[^\]>]{0,40})\s*[\]>]",
    re.IGNORECASE,
)
# Cloze blanks a source may use on purpose ("It's just [MASK].").
_CLOZE = frozenset({"MASK", "BLANK"})
_LOREM = re.compile(r"\blorem ipsum\b", re.IGNORECASE)
# A source's pointer at another field of its record ("<<<raw_text>>>"), left unresolved.
_FIELD_POINTER = re.compile(r"<<<\s*[A-Za-z_][\w.]*\s*>>>")


def placeholders(text: str) -> list[str]:
    """The template placeholders left in `text`, as written."""
    found = [m.group(0) for m in _BRACED.finditer(text)]
    for m in _BRACKETED.finditer(text):
        caps = m.group(1)
        # "[Name]" or "[citation needed]" is text, "[EVENT]" a slot.
        if caps is None or (caps == caps.upper() and caps.strip() not in _CLOZE):
            found.append(m.group(0))
    found += [m.group(0) for m in _LOREM.finditer(text)]
    found += [m.group(0) for m in _FIELD_POINTER.finditer(text)]
    return found


def placeholder_name(raw: str) -> str:
    """The role a placeholder (or a role name) stands for: '{ Event-1 }' -> 'event_1'."""
    inner = raw.strip("{}[]<> \t")
    return re.sub(r"[\s.-]+", "_", inner.strip()).lower()


def unfillable_placeholders(template: str, roles: Iterable[str]) -> list[str]:
    """Placeholders of a question template that no role of the card can fill.

    A placeholder names a role ("{question}", "{{ context }}", "[OPTIONS]"); any other name
    ("{event}") cannot be filled from the item's own fields, so the plan is refused.
    """
    known = {placeholder_name(r) for r in roles}
    missing = []
    for raw in placeholders(template):
        name = placeholder_name(raw)
        if name not in known and raw not in missing:
            missing.append(raw)
    return missing


def check_placeholders(item: BenchmarkItem, plan: TransformationPlan | None = None) -> ItemCheck:
    parts = {"question": question_of(item)}
    if plan is not None and plan.question_template:
        # Realization fills the template from the item's fields: what is left of it shows.
        left = [p for p in placeholders(plan.question_template) if p in item.input]
        parts["instruction"] = " ".join(left)
    for i, choice in enumerate(item.choices or []):
        parts[f"option {chr(ord('A') + i)}"] = choice
    for text in answer_texts(item):
        parts.setdefault("answer", text)
    problems = []
    for where, text in parts.items():
        left = placeholders(text)
        if left:
            problems.append(f"unfilled placeholder {', '.join(repr(p) for p in left)} in the {where}")
    return _verdict("placeholder", problems, "no unfilled placeholder")


# --------------------------------------------------------------------------- options

# Words a complete sentence does not end on: articles, conjunctions, relative pronouns,
# possessives, "of". Other prepositions are left out: "someone to go with" is a whole answer.
_DANGLING = frozenset(
    "a an the and or but nor which who whom whose that because although though whereas "
    "if unless whether than its their my your our of".split()
)
_TERMINAL = tuple(".!?\"')]}»”’")
_OPEN_END = (",", ";", ":", "-", "–", "—", "(", "[", "/", "“", "‘")
_ELLIPSIS = ("...", "…", "[…]")


def truncation(option: str, siblings_terminated: bool = False) -> str | None:
    """Why `option` looks cut off mid-sentence, or None."""
    text = option.strip()
    if not text:
        return None
    if text.endswith(_ELLIPSIS):
        return "ends with an ellipsis"
    if text.endswith(_OPEN_END):
        return f"ends with {text[-1]!r}"
    last = re.findall(r"[A-Za-z']+", text)
    if last and text[-1].isalpha() and last[-1].lower() in _DANGLING and len(last) > 1:
        return f"ends with {last[-1]!r}"
    if text.count("(") > text.count(")") or text.count("[") > text.count("]"):
        return "has an unclosed bracket"
    if text.count('"') % 2 or text.count("“") > text.count("”"):
        return "has an unclosed quote"
    if siblings_terminated and len(last) >= 8 and not text.endswith(_TERMINAL):
        return "stops without punctuation where every other option ends a sentence"
    return None


def cut_from(option: str, context: str) -> str | None:
    """Why `option`, a span copied from `context`, stops in the middle of one of its words
    (None: it does not). Sample planning on the 1.5B wrote distractors as 120 characters of
    the dialogue: "…I mentioned to you before that you nee"."""
    text = option.strip()
    if len(text.split()) < 3 or not text[-1].isalnum():
        return None
    start = context.find(text)
    while start != -1:
        end = start + len(text)
        if end < len(context) and context[end].isalnum():
            word = re.findall(r"\w+$", text)[0] + re.findall(r"^\w+", context[end:])[0]
            return f"stops inside the word {word!r} of the context"
        start = context.find(text, start + 1)
    return None


def check_truncated_options(item: BenchmarkItem) -> ItemCheck:
    choices = [c.strip() for c in item.choices or []]
    problems = []
    for i, choice in enumerate(choices):
        others = [c for j, c in enumerate(choices) if j != i and c]
        terminated = bool(others) and all(c.endswith(_TERMINAL) for c in others)
        why = truncation(choice, siblings_terminated=terminated) or cut_from(choice, item.input)
        if why:
            problems.append(f"option {chr(ord('A') + i)} {why}: {_quote(choice)}")
    return _verdict("truncated_option", problems, "every option is complete")


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else "…" + text[-limit:])


def _option_key(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(w for w in words if w not in ("a", "an", "the"))


def check_duplicate_options(item: BenchmarkItem) -> ItemCheck:
    seen: dict[str, int] = {}
    problems = []
    for i, choice in enumerate(item.choices or []):
        key = _option_key(choice)
        if key and key in seen:
            problems.append(f"options {chr(ord('A') + seen[key])} and {chr(ord('A') + i)} say "
                            f"the same: {_quote(choice)}")
        seen.setdefault(key, i)
    return _verdict("duplicate_option", problems, "options are distinct")


def check_option_count(item: BenchmarkItem) -> ItemCheck:
    multiple_choice = item.metadata.get("answer_format") == "multiple_choice"
    if item.choices is None:
        problems = ["the item is multiple choice but has no options"] if multiple_choice else []
        return _verdict("too_few_options", problems, "not a multiple-choice item")
    usable = [c for c in item.choices if c.strip()]
    problems = [f"only {len(usable)} usable option(s)"] if len(usable) < 2 else []
    return _verdict("too_few_options", problems, f"{len(usable)} options")


# --------------------------------------------------------------------------- answer vs question

_STOP = frozenset(
    "a an the of to in on at by for with from and or but is are was were be been being it its "
    "this that these those what which who whom whose why how when where did do does has have "
    "had he she they them his her their there then than as into about over under after before "
    "cause effect result reason consequence".split()
)


@lru_cache(maxsize=16384)
def content_stems(text: str) -> frozenset[str]:
    return frozenset({stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP})


def _covered(part: AbstractSet[str], whole: AbstractSet[str]) -> float:
    return len(part & whole) / len(part) if part else 0.0


# "What is the cause of: X?", "What was the effect of X?", "the reason for X"
_PREMISE = re.compile(
    r"\b(?:cause|effect|result|reason|consequence)s?\s+(?:of|for)\b[:\s]*(?P<premise>.+?)[\s?.]*$",
    re.IGNORECASE | re.DOTALL,
)


def premise_of(question: str) -> str | None:
    """The event a cause/effect question asks about, or None."""
    m = _PREMISE.search(question.strip())
    return m.group("premise").strip() if m else None


def check_answer_in_question(item: BenchmarkItem, threshold: float = 0.8) -> ItemCheck:
    question = content_stems(question_of(item))
    problems = []
    for text in answer_texts(item):
        stems = content_stems(text)
        if len(stems) >= 2 and _covered(stems, question) >= threshold:
            problems.append(f"the question already states the answer {_quote(text)}")
            break
    return _verdict("answer_in_question", problems, "the question does not state the answer")


def check_answer_is_premise(item: BenchmarkItem, threshold: float = 0.8) -> ItemCheck:
    premise = premise_of(question_of(item))
    if premise is None:
        return _verdict("answer_is_premise", [], "no premise in the question")
    stems = content_stems(premise)
    problems = []
    for text in answer_texts(item):
        answer = content_stems(text)
        if answer and stems and min(_covered(answer, stems), _covered(stems, answer)) >= threshold:
            problems.append(f"the answer {_quote(text)} restates the premise {_quote(premise)}")
            break
    return _verdict("answer_is_premise", problems, "the answer is not the premise")


# A premise that opens with one of these continues a sentence the item leaves out. Over the
# 211 cause/effect premises of the General-Bench subset, only "But the students can't
# understand the example" does (a careful reader rejected it: no cause is recoverable).
_CONNECTIVE = re.compile(
    r"^(?:but|and|so|or|yet|however|therefore|thus|hence|moreover|besides|also|instead|"
    r"nevertheless|nonetheless)\b", re.IGNORECASE)


def check_dangling_premise(item: BenchmarkItem) -> ItemCheck:
    premise = premise_of(question_of(item))
    opener = _CONNECTIVE.match(premise) if premise else None
    problems = ([f"the premise {_quote(premise or '')} opens with {opener.group(0)!r}: it "
                 f"continues a sentence the item does not show"] if opener else [])
    return _verdict("dangling_premise", problems,
                    "no premise in the question" if premise is None
                    else "the premise stands on its own")


# --------------------------------------------------------------------------- context

def _section_titles(plan: TransformationPlan,
                    media_roles: Collection[str] = ()) -> dict[str, str]:
    """Text context roles of the plan and the section title `agents.realize` gives each (a
    media role is an attachment, not a section)."""
    return {role: role.replace("_", " ").strip().capitalize() for role in plan.input_fields
            if role not in _QUESTION_ROLES and role not in media_roles}


def check_context(item: BenchmarkItem, plan: TransformationPlan | None,
                  min_chars: int = 20, media_roles: Collection[str] = ()) -> ItemCheck:
    """The plan feeds a text context into the item: at least one such section has text."""
    if plan is None:
        return _verdict("empty_context", [], "no plan to say a context is needed")
    titles = _section_titles(plan, media_roles)
    if not titles:
        return _verdict("empty_context", [], "the plan needs no context")
    for title in titles.values():
        m = re.search(rf"(?m)^{re.escape(title)}:\n(?P<body>.*?)"
                      r"(?=\n\n(?:[A-Z][\w ]*:\n|Question: )|\Z)", item.input, re.DOTALL)
        if m and len("".join(m.group("body").split())) >= min_chars:
            return _verdict("empty_context", [], f"{title.lower()} given")
    if len(question_of(item)) >= 200:  # the context may sit inside a long question field
        return _verdict("empty_context", [], "the question carries its own context")
    if item.media:  # an image or a recording is the context (a text role may repeat the question)
        return _verdict("empty_context", [], "the item's media carry its context")
    return _verdict("empty_context",
                    [f"the plan feeds {', '.join(titles)} into the item but the item has none"],
                    "")


# --------------------------------------------------------------------------- boilerplate

_STRONG_BOILERPLATE = {
    "a copyright notice": r"\bcopyright\s*(?:\(c\)|©)|©\s*(?:\d{4}|copyright)|\ball rights reserved\b",
    "a cookie banner": r"\bwe use cookies\b|\baccept (?:all )?cookies\b|\bcookie (?:policy|settings|preferences)\b",
    "a link prompt": r"\bclick here\b|\bread more\s*(?:»|>>|\.\.\.|…)|\bcontinue reading\b",
    "a sharing prompt": r"\bshare (?:this|the) (?:post|article|story|page)\b|\bfollow us on\b",
    "a newsletter prompt": r"\b(?:subscribe|sign up) (?:to|for) (?:our|the) newsletter\b",
    "page navigation": r"\bskip to (?:main )?content\b|(?m:^\s*(?:[\w&' ]{2,20}\s*[|»]\s*){3,}[\w&' ]{2,20}\s*$)",
    "an advertisement marker": r"(?im:^\s*(?:advertisement|sponsored content|ad)\s*$)",
    "HTML markup": r"</?(?:p|div|br|span|a|li|ul|ol|td|tr|table|h[1-6])\b[^>]{0,80}>",
    "a Q&A-site prompt": r"\bis this answer still relevant\b|\bthis answer still relevant\b|\bwas this answer helpful\b",
    "assistant chatter": r"\bsure!? here (?:is|are)\b|\bas an ai (?:language )?model\b|\bI'm sorry, (?:but )?I (?:am|can)",
    "a script notice": r"\b(?:enable|turn on) javascript\b|\bjavascript is (?:disabled|required)\b",
}
_BOILERPLATE = {name: re.compile(rx, re.IGNORECASE) for name, rx in _STRONG_BOILERPLATE.items()}
# Words without which a kind's pattern cannot match: a substring test is ~100x cheaper than a
# case-insensitive search of a long passage, and most passages hold none of them.
_BOILERPLATE_CLUES = {
    "a copyright notice": ("copyright", "©", "rights reserved"),
    "a cookie banner": ("cookie",),
    "a link prompt": ("click here", "read more", "continue reading"),
    "a sharing prompt": ("share th", "follow us"),
    "a newsletter prompt": ("newsletter",),
    "page navigation": ("skip to", "|", "»"),
    "a Q&A-site prompt": ("answer still relevant", "answer helpful"),
    "assistant chatter": ("sure", "as an ai", "i'm sorry"),
    "a script notice": ("javascript",),
}


@lru_cache(maxsize=4096)
def boilerplate(text: str) -> tuple[tuple[str, str], ...]:
    """(kind, the text found) for each kind of page furniture in `text`."""
    lowered = text.lower()
    found = []
    for name, rx in _BOILERPLATE.items():
        clues = _BOILERPLATE_CLUES.get(name)
        if clues is not None and not any(c in lowered for c in clues):
            continue
        m = rx.search(text)
        if m:
            found.append((name, " ".join(m.group(0).split())))
    return tuple(found)


def check_boilerplate(item: BenchmarkItem) -> ItemCheck:
    found = boilerplate(item.input)
    problems = [f"{kind} in the input ({text[:60]!r})" for kind, text in found]
    return _verdict("boilerplate", problems, "no page furniture in the input")


# --------------------------------------------------------------------------- offensive


@lru_cache(maxsize=1)
def _word_filter() -> Any:
    from profy import ProfanityFilter, Severity

    # Whole words only: the obfuscation-aware driver reads "isn't" as a profanity.
    return ProfanityFilter(languages=["english"], driver="pattern",
                           minimum_severity=Severity.MODERATE)


@lru_cache(maxsize=1)
def _slur_filter() -> Any:
    """The list's slur tier alone: matching time grows with the dictionary (2.6 s for a
    5,000-character passage with all 2,660 entries, 27 ms with the slurs)."""
    import json
    from importlib import resources

    from profy import ProfanityFilter, Severity

    try:
        data = json.loads((resources.files("profy") / "data/languages/english.json").read_text())
        slurs = set(data["severity"]["extreme"])
        others = [w for w in data["profanities"] if w not in slurs]
    except (OSError, KeyError, TypeError, ValueError):  # the package laid its data out anew
        others = []
    return ProfanityFilter(languages=["english"], driver="pattern", allow=others,
                           minimum_severity=Severity.EXTREME)


_TOKEN = re.compile(r"[^\W_]+")
_Entries = dict[str, tuple[tuple[str, ...], ...]]


@lru_cache(maxsize=1)
def _listed_entries() -> tuple[_Entries, _Entries] | None:
    """Every listed entry, and every slur, as word sequences keyed by their first word (None
    when the package's data has another layout: then every text is scanned)."""
    import json
    from importlib import resources

    try:
        data = json.loads((resources.files("profy") / "data/languages/english.json").read_text())
        every, extreme = list(data["profanities"]), list(data["severity"]["extreme"])
    except (OSError, KeyError, TypeError, ValueError):
        return None

    def by_head(entries: list[str]) -> _Entries:
        found: dict[str, set[tuple[str, ...]]] = {}
        for entry in entries:
            words = tuple(_TOKEN.findall(entry.lower()))
            if words:
                found.setdefault(words[0], set()).add(words)
        return {head: tuple(seqs) for head, seqs in found.items()}

    return by_head(every), by_head(extreme)


@lru_cache(maxsize=4096)
def _may_match(text: str, slurs_only: bool = False) -> bool:
    """False only when no listed entry occurs in `text` as a run of whole words, so the
    list's scan (whole-word matches; ~30 ms a call over 2,660 entries) would find nothing.
    The scan stays the judge of what does match."""
    entries = _listed_entries()
    if entries is None:
        return True
    table = entries[1] if slurs_only else entries[0]
    words = _TOKEN.findall(text.lower())
    for i, word in enumerate(words):
        for seq in table.get(word, ()):
            if tuple(words[i:i + len(seq)]) == seq:
                return True
    return False


def warm_up() -> None:
    """Load the word lists now (~1.5 s once per process: the list's 2,660 patterns compile)
    rather than in the middle of the first item that needs them."""
    _listed_entries()
    _word_filter()
    _slur_filter()


def offensive_words(parts: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """(word as written, severity) of moderate or worse listed words, per part of an item."""
    if not any(_may_match(text) for text in parts.values()):
        return {}
    return {where: list(words) for where, words in _scanned(tuple(parts.items()))}


@lru_cache(maxsize=1024)
def _scanned(parts: tuple[tuple[str, str], ...]
             ) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """The list's scan of an item's parts, once per item: the Orchestrator checks a source
    item and the Verifier the item it became, mostly the same question and options, and a
    scan costs ~8 ms (a fifth of the checks' time on a 200-item scripted build)."""
    joined, spans, at = [], [], 0
    for where, text in parts:
        flat = " ".join(text.split())
        joined.append(flat)
        spans.append((where, at, at + len(flat)))
        at += len(flat) + 1
    found: dict[str, list[tuple[str, str]]] = {}
    for m in _word_filter().check("\n".join(joined)).matches:  # one pass over every part
        where = next(w for w, lo, hi in spans if lo <= m.position < hi)
        found.setdefault(where, []).append((m.text, m.severity.value))
    return tuple((where, tuple(words)) for where, words in found.items())


@lru_cache(maxsize=4096)
def slurs(text: str) -> tuple[str, ...]:
    if not _may_match(text, slurs_only=True):
        return ()
    return tuple(m.text for m in _slur_filter().check(text).matches)


def check_offensive(item: BenchmarkItem) -> ItemCheck:
    asked = {"question": question_of(item),
             **{f"option {chr(ord('A') + i)}": c for i, c in enumerate(item.choices or [])}}
    if item.choices is None:  # otherwise the answer is one of the options
        for text in answer_texts(item):
            asked.setdefault("answer", text)
    problems = [f"{', '.join(repr(w) for w, _ in words)} "
                f"({', '.join(sorted({s for _, s in words}))}) in the {where}"
                for where, words in offensive_words(asked).items()]
    found = slurs(item.input)
    if found and not problems:
        problems.append(f"slur {', '.join(repr(w) for w in found)} in the input")
    return _verdict("offensive", problems, "no listed slur or profanity")


# --------------------------------------------------------------------------- register


def check_register(item: BenchmarkItem) -> ItemCheck:
    """What the item asks and offers is told in everyday words (for an everyday subtask)."""
    asked = " ".join([question_of(item) or item.input, *(item.choices or []),
                      *answer_texts(item)])
    why = off_register(asked)
    return _verdict("register", [why] if why else [], "told in everyday words")


# --------------------------------------------------------------------------- all


def check_item(item: BenchmarkItem, plan: TransformationPlan | None = None,
               media_roles: Collection[str] = (), everyday: bool = False) -> list[ItemCheck]:
    """Every programmatic check's verdict on `item`, in a fixed order (`media_roles`: the
    card's roles that hold media files, which are no text context; `everyday`: the subtask
    names everyday life, so the item's register is checked too)."""
    return [
        check_option_count(item),
        check_placeholders(item, plan),
        check_truncated_options(item),
        check_duplicate_options(item),
        check_answer_in_question(item),
        check_answer_is_premise(item),
        check_dangling_premise(item),
        check_context(item, plan, media_roles=media_roles),
        check_boilerplate(item),
        check_offensive(item),
        *([check_register(item)] if everyday else []),
    ]


def failed_checks(item: BenchmarkItem, plan: TransformationPlan | None = None,
                  media_roles: Collection[str] = (), everyday: bool = False) -> list[ItemCheck]:
    return [c for c in check_item(item, plan, media_roles, everyday) if not c.passed]
