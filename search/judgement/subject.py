"""Is an article about the desk's subject? A judge of names, their senses and their prominence.

The subject (a data file, `search/subjects/*.json`) has names that are its own (`Mistral AI`, `Le Chat`, the
model names, the founders), a name it shares with other things (`Mistral`: a missile, a wind, a class of ship,
horses and hotels), the words that tell its sense near that name, and the other organisations of its field.

An article is judged in one pass over its words:
- each mention of the subject is found: one of its own names, or the shared name in the subject's sense (more
  of the subject's words than of any other sense within `WINDOW` words; when neither, the article's words
  decide);
- it is about the subject when the subject is prominent: named in the headline or the lead, and in a share of
  the paragraphs; a name in one or two paragraphs of an article about something else is a passing mention;
  the shared name in another sense is a homonym, named as such in the reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from search.analysis import fold_accents
from search.models import Article

SUBJECTS = Path(__file__).resolve().parent.parent / "subjects"
DEFAULT_SUBJECT = "Mistral AI"
WINDOW = 10  # words on either side of a shared name that tell its sense
LEAD_PARAGRAPHS = 2
COMMON_NOUN = "wind"  # the shared name written in lower case is the common noun: le mistral, the mistral
_WORD_RE = re.compile(r"\w+")

Verdict = Literal["about", "homonym", "passing", "absent", "empty"]


@dataclass(frozen=True)
class Subject:
    """What the desk follows, as its data file says."""

    name: str
    names: tuple[tuple[str, ...], ...]  # folded word sequences
    ambiguous: frozenset[str]
    case_sensitive: tuple[str, ...]  # names that count only written so ("Le Chat", not "le chat")
    cues: frozenset[str]
    homonyms: dict[str, frozenset[str]]
    others: tuple[tuple[str, ...], ...]
    anaphors: tuple[tuple[str, ...], ...] = ()  # "the company", "la start-up": the subject, once it is named
    written: tuple[str, ...] = ()  # every name as written, the shared one included
    off_topics: dict[str, frozenset[str]] = field(default_factory=dict)  # a question's other subjects
    homonym_words: dict[str, frozenset[str]] = field(default_factory=dict)  # a question naming a homonym


@dataclass(frozen=True)
class Judgement:
    about: bool
    verdict: Verdict
    reason: str
    mentions: int = 0  # of the subject, in its sense
    paragraphs: int = 0  # with such a mention
    homonym: str | None = None


def words(text: str) -> list[str]:
    return _WORD_RE.findall(fold_accents(text.lower()))


class UnknownSubject(ValueError):
    """No data file for the subject named; the message lists those there are."""


def subject_file(subject: str) -> Path:
    """The data file of `subject`: a path to a `.json` file, or a name with a file in search/subjects
    (`Mistral AI` -> `mistral-ai.json`)."""
    if subject.endswith(".json"):
        path = Path(subject)
    else:
        slug = re.sub(r"[^a-z0-9]+", "-", fold_accents(subject.lower())).strip("-")
        path = SUBJECTS / f"{slug}.json"
    if not path.is_file():
        known = ", ".join(
            sorted(json.loads(p.read_text(encoding="utf-8"))["subject"] for p in SUBJECTS.glob("*.json"))
        )
        raise UnknownSubject(
            f"has no data file ({path}); the subjects known are: {known}, or a path to a .json file"
        )
    return path


@cache
def load_subject(subject: str = DEFAULT_SUBJECT) -> Subject:
    data = json.loads(subject_file(subject).read_text(encoding="utf-8"))
    return Subject(
        name=data["subject"],
        names=tuple(tuple(words(n)) for n in data["names"] if n not in data.get("case_sensitive", ())),
        ambiguous=frozenset(w for n in data["ambiguous"] for w in words(n)),
        case_sensitive=tuple(data.get("case_sensitive", ())),
        cues=frozenset(data["ai_cues"]),
        homonyms={kind: frozenset(cues) for kind, cues in data["homonyms"].items()},
        others=tuple(tuple(words(n)) for n in data["others"]),
        anaphors=tuple(tuple(words(n)) for n in data.get("anaphors", ())),
        written=tuple(data["names"]) + tuple(data["ambiguous"]),
        off_topics={topic: frozenset(cues) for topic, cues in data.get("off_topics", {}).items()},
        homonym_words={kind: frozenset(w) for kind, w in data.get("homonym_words", {}).items()},
    )


HOMONYM_NAMES = {
    "missile": "MBDA missile",
    "wind": "wind",
    "ship": "French navy's ship",
    "horse": "horse",
    "hotel": "hotel or restaurant",
    "other": "name of something else",
}
SUBSTANTIVE_WORDS = 8  # a shorter line (an outlet's name, a byline, a footer) is no paragraph of the article


@dataclass
class _Paragraph:
    words: list[str]
    own: int = 0  # the subject's own names
    shared: list[int] = field(default_factory=list)  # positions of the shared name
    common: set[int] = field(default_factory=set)  # the shared name in lower case: a common noun (the wind)
    anaphors: int = 0
    rivals: int = 0  # names of the field's other organisations
    first_name: int | None = None  # the word where the first of the subject's own names starts


class SubjectJudge:
    """Judges articles against one subject; cheap and stateless (one pass over the words)."""

    def __init__(self, subject: Subject | None = None) -> None:
        self.subject = subject or load_subject()
        self._first_words = {n[0] for n in self.subject.names if n}
        self._anaphor_starts = {a[0] for a in self.subject.anaphors if a}
        self._rival_starts = {n[0] for n in self.subject.others if n}

    def judge(self, article: Article) -> Judgement:
        body = [p.text for p in article.passages if p.kind != "caption"]
        headline = self._read(article.title)
        paragraphs = [p for p in map(self._read, body) if len(p.words) >= SUBSTANTIVE_WORDS]
        if len(headline.words) + sum(len(p.words) for p in paragraphs) < SUBSTANTIVE_WORDS:
            return Judgement(False, "empty", "too short to judge: no text to speak of")
        everything = [headline, *paragraphs]
        article_words = Counter(w for p in everything for w in p.words)
        senses = self._senses(everything, article_words)
        mentions = [p.own + senses[i][0] for i, p in enumerate(everything)]
        if not sum(mentions):
            return self._absent(senses)
        in_headline, lead = mentions[0] > 0, any(mentions[1 : 1 + LEAD_PARAGRAPHS])
        # "the company" stands for the subject once it is more than one name in a list of the field's.
        naming = [p for m, p in zip(mentions[1:], paragraphs, strict=True) if m > 0]
        anaphors_count = in_headline or (lead and (len(naming) >= 2 or naming[0].rivals < 2))
        named = [
            m > 0 or (p.anaphors > 0 and anaphors_count)
            for m, p in zip(mentions[1:], paragraphs, strict=True)
        ]
        share = sum(named) / max(1, len(paragraphs))
        # Another company of the field named in the headline, and more in the body than the subject:
        # the article is about it, the subject is its comparison ("OpenAI, Anthropic and Mistral race...").
        rivals = sum(p.rivals for p in paragraphs) if headline.rivals else 0
        short = len(paragraphs) <= 2
        if in_headline:
            leads = headline.first_name == 0 or share >= 0.2  # "Guillaume Lample : « ... »", an interview
            about = rivals <= 2 * sum(mentions) and (leads if lead else share >= 0.25 or short)
        else:
            compared = rivals > 2 * sum(mentions) or (headline.rivals > 0 and short)
            about = not compared and ((lead and share >= 0.3) or share >= 0.5)
        counts = (sum(mentions), sum(named))
        where = f"{sum(named)} of {len(paragraphs)} paragraphs"
        if about:
            place = "the headline" if in_headline else ("the lead" if lead else "most paragraphs")
            return Judgement(True, "about", f"names {self.subject.name} in {place}; {where}", *counts)
        unnamed = "" if in_headline else ", not in the headline"
        return Judgement(
            False, "passing", f"a passing mention: {self.subject.name} in {where}{unnamed}", *counts
        )

    def off_subject(self, question: str) -> str | None:
        """Why a question is not about the subject, or None (the search decides). A question is short
        and typed in lower case, so it is read more warily than an article: the shared name with a word
        that names another of its senses ("prix d'un missile Mistral", "mistral hotel"), or no name of
        the subject and a word of another subject the data file lists (the weather, sport), and in
        both cases no word of the subject's field."""
        read = self._read(question)
        lowered = question.lower()
        if read.own or any(name.lower() in lowered for name in self.subject.case_sensitive):
            return None
        near = set(read.words)
        if near & self.subject.cues:
            return None
        if read.shared:
            for kind, named in self.subject.homonym_words.items():
                if near & named:
                    name = read.words[read.shared[0]].capitalize()
                    return f"“{name}” here is the {HOMONYM_NAMES.get(kind, kind)}, not {self.subject.name}"
            return None
        for topic, cues in self.subject.off_topics.items():
            if near & cues:
                return f"it is a question about {topic}, not about {self.subject.name}"
        return None

    def _read(self, text: str) -> _Paragraph:
        written = _WORD_RE.findall(fold_accents(text))
        folded = [word.lower() for word in written]
        paragraph = _Paragraph(folded)
        i = 0
        while i < len(folded):
            length = self._name_at(folded, i)
            if length:
                paragraph.own += 1
                if paragraph.first_name is None:
                    paragraph.first_name = i
                i += length
                continue
            if folded[i] in self.subject.ambiguous:
                paragraph.shared.append(i)
                if written[i].islower():
                    paragraph.common.add(i)
            elif folded[i] in self._anaphor_starts and any(
                tuple(folded[i : i + len(a)]) == a for a in self.subject.anaphors
            ):
                paragraph.anaphors += 1
            elif folded[i] in self._rival_starts and any(
                tuple(folded[i : i + len(n)]) == n for n in self.subject.others
            ):
                paragraph.rivals += 1
            i += 1
        paragraph.own += sum(text.count(name) for name in self.subject.case_sensitive)
        return paragraph

    def _name_at(self, folded: list[str], i: int) -> int:
        if folded[i] not in self._first_words:
            return 0
        return max((len(n) for n in self.subject.names if tuple(folded[i : i + len(n)]) == n), default=0)

    def _senses(self, paragraphs: list[_Paragraph], article_words: Counter) -> list[tuple[int, Counter]]:
        """Per paragraph: the shared names in the subject's sense, and the other senses met."""
        article_sense = self._sense(article_words)
        found = []
        for paragraph in paragraphs:
            ours, others = 0, Counter()
            for position in paragraph.shared:
                near = Counter(paragraph.words[max(0, position - WINDOW) : position + WINDOW + 1])
                sense = COMMON_NOUN if position in paragraph.common else (self._sense(near) or article_sense)
                if sense == "subject":
                    ours += 1
                elif sense:
                    others[sense] += 1
            found.append((ours, others))
        return found

    def _sense(self, near: Counter) -> str | None:
        """The sense the words `near` tell: "subject", a homonym's kind, or None when they tell none."""
        scores = {kind: sum(near[w] for w in cues) for kind, cues in self.subject.homonyms.items()}
        scores["subject"] = sum(near[w] for w in self.subject.cues)
        best = max(scores, key=lambda kind: (scores[kind], kind != "subject"))
        return best if scores[best] else None

    def _absent(self, senses: list[tuple[int, Counter]]) -> Judgement:
        other = sum((s[1] for s in senses), Counter())
        if other:
            kind = other.most_common(1)[0][0]
            return Judgement(
                False, "homonym", f"another Mistral: the name is used for a {kind} here", homonym=kind
            )
        return Judgement(False, "absent", f"does not name {self.subject.name}")
