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


@cache
def load_subject(name: str = "mistral-ai") -> Subject:
    data = json.loads((SUBJECTS / f"{name}.json").read_text(encoding="utf-8"))
    return Subject(
        name=data["subject"],
        names=tuple(tuple(words(n)) for n in data["names"] if n not in data.get("case_sensitive", ())),
        ambiguous=frozenset(w for n in data["ambiguous"] for w in words(n)),
        case_sensitive=tuple(data.get("case_sensitive", ())),
        cues=frozenset(data["ai_cues"]),
        homonyms={kind: frozenset(cues) for kind, cues in data["homonyms"].items()},
        others=tuple(tuple(words(n)) for n in data["others"]),
        anaphors=tuple(tuple(words(n)) for n in data.get("anaphors", ())),
    )


SUBSTANTIVE_WORDS = 8  # a shorter line (an outlet's name, a byline, a footer) is no paragraph of the article


@dataclass
class _Paragraph:
    words: list[str]
    own: int = 0  # the subject's own names
    shared: list[int] = field(default_factory=list)  # positions of the shared name
    common: set[int] = field(default_factory=set)  # the shared name in lower case: a common noun (the wind)
    anaphors: int = 0


class SubjectJudge:
    """Judges articles against one subject; cheap and stateless (one pass over the words)."""

    def __init__(self, subject: Subject | None = None) -> None:
        self.subject = subject or load_subject()
        self._first_words = {n[0] for n in self.subject.names if n}
        self._anaphor_starts = {a[0] for a in self.subject.anaphors if a}

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
        named = [
            m > 0 or (p.anaphors > 0 and (in_headline or lead))
            for m, p in zip(mentions[1:], paragraphs, strict=True)
        ]
        share = sum(named) / max(1, len(paragraphs))
        rival = self._rival_headline(headline) and not in_headline
        about = (
            (in_headline and (lead or share >= 0.25 or len(paragraphs) <= 2))
            or (lead and share >= 0.3 and not rival)
            or share >= 0.5
        )
        counts = (sum(mentions), sum(named))
        where = f"{sum(named)} of {len(paragraphs)} paragraphs"
        if about:
            place = "the headline" if in_headline else ("the lead" if lead else "most paragraphs")
            return Judgement(True, "about", f"names {self.subject.name} in {place}; {where}", *counts)
        unnamed = "" if in_headline else ", not in the headline"
        return Judgement(
            False, "passing", f"a passing mention: {self.subject.name} in {where}{unnamed}", *counts
        )

    def _read(self, text: str) -> _Paragraph:
        written = _WORD_RE.findall(fold_accents(text))
        folded = [word.lower() for word in written]
        paragraph = _Paragraph(folded)
        i = 0
        while i < len(folded):
            length = self._name_at(folded, i)
            if length:
                paragraph.own += 1
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

    def _rival_headline(self, headline: _Paragraph) -> bool:
        text = headline.words
        return any(tuple(text[i : i + len(n)]) == n for n in self.subject.others for i in range(len(text)))
