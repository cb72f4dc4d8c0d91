"""BA-Text constraints: their kinds, their wording, and the programmatic check of a response.

A constraint is programmatic when code can decide it on the response text (word counts,
required or banned sections, first and last sections, section order, banned words, first
person, a term in the first paragraph or in a section, labelled list items, words per
section), or `judge` when only a model can (content: "include a fresh herb"). Responses are
read as Markdown: `#`-headings open sections, `- `, `* ` or `1.` lines are list items, blank
lines separate paragraphs. Matching is case-insensitive and on word boundaries.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

Group = Literal["positive", "negative", "positional", "sequencing", "conditional", "iterative"]
Kind = Literal[
    "has_section", "mentions", "min_words",                                 # positive
    "no_section", "forbidden_word", "max_words", "no_first_person",        # negative
    "first_section", "last_section", "first_paragraph_mentions",           # positional
    "order", "adjacent",                                                    # sequencing
    "conditional_term", "conditional_exclusive",                           # conditional
    "each_item", "each_section_min_words",                                 # iterative
    "judge",
]

# The programmatic kinds each group draws from.
KINDS_BY_GROUP: dict[str, tuple[str, ...]] = {
    "positive": ("has_section", "mentions", "min_words"),
    "negative": ("no_section", "forbidden_word", "max_words", "no_first_person"),
    "positional": ("first_section", "last_section", "first_paragraph_mentions"),
    "sequencing": ("order", "adjacent"),
    "conditional": ("conditional_term", "conditional_exclusive"),
    "iterative": ("each_item", "each_section_min_words"),
}


class Constraint(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    group: Group
    kind: Kind
    text: str
    args: dict[str, Any] = {}

    @property
    def programmatic(self) -> bool:
        return self.kind != "judge"


def constraint_text(kind: str, args: dict[str, Any]) -> str:
    """The wording of a constraint, from its kind and arguments."""
    a = args
    texts = {
        "has_section": lambda: f'Include a section titled "{a["title"]}".',
        "mentions": lambda: f'Mention "{a["term"]}" at least {a["times"]} times.',
        "min_words": lambda: f"Write at least {a['words']} words.",
        "no_section": lambda: f'Do not include a section titled "{a["title"]}".',
        "forbidden_word": lambda: f'Do not use the word "{a["word"]}".',
        "max_words": lambda: f"Do not write more than {a['words']} words.",
        "no_first_person": lambda: "Do not use first-person pronouns (I, me, my, we, us, our).",
        "first_section": lambda: f'Begin with a section titled "{a["title"]}".',
        "last_section": lambda: f'End with a section titled "{a["title"]}".',
        "first_paragraph_mentions": lambda: f'Mention "{a["term"]}" in the first paragraph.',
        "order": lambda: "Present the sections " + ", then ".join(
            f'"{t}"' for t in a["titles"]) + ", in this order.",
        "adjacent": lambda: (f'Put the section "{a["after"]}" immediately after the section '
                             f'"{a["before"]}".'),
        "conditional_term": lambda: (
            f'If you include a section titled "{a["section"]}", mention "{a["term"]}" in it; '
            f'otherwise, mention "{a["alternative"]}" in the last section.'),
        "conditional_exclusive": lambda: (
            f'If you include a section titled "{a["section"]}", do not include a section '
            f'titled "{a["excluded"]}".'),
        "each_item": lambda: (
            f'In the section "{a["section"]}", write at least {a["items"]} list items (lines '
            f'starting with "- "), each containing "{a["label"]}".'),
        "each_section_min_words": lambda: f"Give every section at least {a['words']} words.",
        "judge": lambda: str(a["text"]),
    }
    return texts[kind]()


# -- reading a response ------------------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*\S)")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_NUMBERING = re.compile(r"^\d+[.)]\s*")
_FIRST_PERSON_I = {"I", "I'm", "I've", "I'd", "I'll", "I’m", "I’ve", "I’d", "I’ll"}
_FIRST_PERSON = {"me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "we're",
                 "we've", "we'll", "we'd", "we’re", "we’ve", "we’ll", "we’d", "let's", "let’s"}


def title_key(title: str) -> str:
    """A section title as compared: numbering, emphasis, a final colon and case ignored."""
    title = title.strip().strip("*_").strip()
    title = _NUMBERING.sub("", title).rstrip(":").strip()
    return " ".join(title.casefold().split())


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def count_term(term: str, text: str) -> int:
    """Occurrences of `term` (case-insensitive; word boundaries where it starts or ends with a
    letter or digit; any whitespace between its words)."""
    pattern = r"\s+".join(re.escape(w) for w in term.split())
    if re.match(r"[^\W_]", term):
        pattern = r"(?<![^\W_])" + pattern
    if re.search(r"[^\W_]$", term):
        pattern += r"(?![^\W_])"
    return len(re.findall(pattern, text, re.IGNORECASE))


class Section(msgspec.Struct, frozen=True):
    title: str
    body: str

    @property
    def key(self) -> str:
        return title_key(self.title)

    def items(self) -> list[str]:
        return [m.group(1) for line in self.body.splitlines() if (m := _ITEM.match(line))]


class Response(msgspec.Struct, frozen=True):
    text: str
    sections: list[Section]
    paragraphs: list[str]

    def section(self, title: str) -> Section | None:
        key = title_key(title)
        return next((s for s in self.sections if s.key == key), None)

    def index(self, title: str) -> int | None:
        key = title_key(title)
        return next((i for i, s in enumerate(self.sections) if s.key == key), None)


def parse_response(text: str) -> Response:
    sections: list[Section] = []
    title: str | None = None
    body: list[str] = []
    plain: list[str] = []  # the text without heading lines, for paragraphs
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            if title is not None:
                sections.append(Section(title, "\n".join(body)))
            title, body = heading.group(1), []
            plain.append("")
            continue
        body.append(line)
        plain.append(line)
    if title is not None:
        sections.append(Section(title, "\n".join(body)))
    blocks = re.split(r"\n\s*\n", "\n".join(plain))
    return Response(text=text, sections=sections,
                    paragraphs=[b.strip() for b in blocks if b.strip()])


# -- checking -----------------------------------------------------------------------------------


def _titles(response: Response) -> str:
    return ", ".join(repr(s.title) for s in response.sections) or "none"


def check(constraint: Constraint, response: Response) -> tuple[bool, str]:
    """Whether a response satisfies a programmatic constraint, and why."""
    a, r = constraint.args, response
    kind = constraint.kind
    if kind == "has_section":
        found = r.section(a["title"]) is not None
        return found, f"section {a['title']!r} {'found' if found else 'missing'}"
    if kind == "no_section":
        found = r.section(a["title"]) is not None
        return not found, f"section {a['title']!r} {'present' if found else 'absent'}"
    if kind in ("min_words", "max_words"):
        n = len(words(r.text))
        ok = n >= a["words"] if kind == "min_words" else n <= a["words"]
        return ok, f"{n} words"
    if kind == "mentions":
        n = count_term(a["term"], r.text)
        return n >= a["times"], f"{a['term']!r} mentioned {n} times"
    if kind == "forbidden_word":
        n = count_term(a["word"], r.text)
        return n == 0, f"{a['word']!r} used {n} times"
    if kind == "no_first_person":
        pronouns = sorted({w for w in words(r.text)
                           if w in _FIRST_PERSON_I or w.lower() in _FIRST_PERSON})
        return not pronouns, (f"first-person words: {', '.join(pronouns)}" if pronouns
                              else "none used")
    if kind in ("first_section", "last_section"):
        if not r.sections:
            return False, "no sections"
        edge = r.sections[0 if kind == "first_section" else -1]
        which = "first" if kind == "first_section" else "last"
        return edge.key == title_key(a["title"]), f"{which} section is {edge.title!r}"
    if kind == "first_paragraph_mentions":
        if not r.paragraphs:
            return False, "no paragraph"
        n = count_term(a["term"], r.paragraphs[0])
        return n > 0, f"{a['term']!r} {'in' if n else 'not in'} the first paragraph"
    if kind == "order":
        missing = [t for t in a["titles"] if r.index(t) is None]
        if missing:
            return False, f"missing sections {missing}; sections: {_titles(r)}"
        places = [r.index(t) or 0 for t in a["titles"]]
        ok = all(x < y for x, y in zip(places, places[1:], strict=False))
        return ok, f"sections in order: {_titles(r)}"
    if kind == "adjacent":
        before, after = r.index(a["before"]), r.index(a["after"])
        if before is None or after is None:
            return False, f"sections: {_titles(r)}"
        return after == before + 1, f"sections in order: {_titles(r)}"
    if kind == "conditional_term":
        section = r.section(a["section"])
        if section is not None:
            n = count_term(a["term"], section.body)
            return n > 0, f"section {a['section']!r} present; {a['term']!r} " \
                          f"{'in' if n else 'not in'} it"
        if not r.sections:
            return False, f"section {a['section']!r} absent and no last section"
        n = count_term(a["alternative"], r.sections[-1].body)
        return n > 0, f"section {a['section']!r} absent; {a['alternative']!r} " \
                      f"{'in' if n else 'not in'} the last section"
    if kind == "conditional_exclusive":
        both = r.section(a["section"]) is not None and r.section(a["excluded"]) is not None
        return not both, (f"both {a['section']!r} and {a['excluded']!r} present" if both
                          else "not both present")
    if kind == "each_item":
        section = r.section(a["section"])
        if section is None:
            return False, f"section {a['section']!r} missing"
        items = section.items()
        unlabelled = [i for i in items if not count_term(a["label"], i)]
        ok = len(items) >= a["items"] and not unlabelled
        reason = f"{len(items)} items, {len(unlabelled)} without {a['label']!r}"
        return ok, reason
    if kind == "each_section_min_words":
        if not r.sections:
            return False, "no sections"
        short = [f"{s.title!r} ({len(words(s.body))})" for s in r.sections
                 if len(words(s.body)) < a["words"]]
        return not short, f"sections under {a['words']} words: {', '.join(short) or 'none'}"
    raise ValueError(f"constraint {constraint.id} ({kind}) has no programmatic check")
