"""Is an article about the desk's subject? A judge of names, their senses and their prominence.

The subject (a data file, `search/subjects/*.json`) has names that are its own (`Mistral AI`, the model
names, the founders), a name it shares with other things (`Mistral`: a missile, a wind, a class of ship,
horses and hotels), names of its own that other things bear too (`Le Chat`, `Magistral`), the words that
tell each sense, the other organisations of its field, and the words of someone's past ("former").

An article is read in one pass over its words (`read`):
- each mention of the subject is found: one of its own names, or a name others bear too in the subject's
  sense (more of the subject's words than of any other sense within `WINDOW` words; when neither, the
  article's words decide); not as part of another's name ("Mistral Électricité") nor someone's past;
- where the mentions stand (the headline, the lead, the share of paragraphs, the field's other companies
  beside them) gives the rules' decision: a name in one or two paragraphs of an article about something
  else is a passing mention;
- the learned weighing (`weighing.py`), when the subject has one, decides from that reading and the words
  around the mentions. The shared name in another sense only is a homonym, named as such in the reason.
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
from search.judgement.weighing import CONTEXT, Reading, Weighing, load_weighing
from search.models import Article

SUBJECTS = Path(__file__).resolve().parent.parent / "subjects"
DEFAULT_SUBJECT = "Mistral AI"
WINDOW = 10  # words on either side of a shared name that tell its sense
LEAD_PARAGRAPHS = 2
EARLY_WORDS = 15  # the first words of a brief, where what it is about is named
LEAD_WORDS = 25  # the words of a lead that say whom "the company" stands for
COMMON_NOUN = "wind"  # the shared name written in lower case is the common noun: le mistral, the mistral
_WORD_RE = re.compile(r"\w+")
_ARTICLES = frozenset("le la les l un une des du de the a an".split())  # "Le Mistral": the wind, the ship
_CLAUSE_RE = re.compile(r"[:|—–?!;«»]")

Verdict = Literal["about", "homonym", "passing", "absent", "empty"]
Senses = dict[str, frozenset[str]]  # a name's other senses, each with the words that tell it


@dataclass(frozen=True)
class Subject:
    """What the desk follows, as its data file says."""

    name: str
    names: tuple[tuple[str, ...], ...]  # folded word sequences
    ambiguous: frozenset[str]
    shared: str  # the name it shares with other things, as written ("Mistral")
    case_sensitive: tuple[str, ...]  # names that count only written so ("Le Chat", not "le chat")
    # Names other things bear too ("Le Chat", a comic's cat; "Mistral Large", a horse), each with the
    # words of its other senses: its sense is told as the shared name's is.
    borne: dict[str, Senses]
    weighing: Weighing | None  # the learned weighing of the articles that name it (weighing.py)
    past: frozenset[str]  # words that make a mention someone's past ("former", "ex", "ancien")
    titles: frozenset[str]  # a person's titles: "Mme Mistral", "Dr Mistral" is someone of that name
    cues: frozenset[str]
    homonyms: Senses
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


def contexts(paragraphs: list[_Paragraph], spans: list[list[tuple[int, int]]]) -> frozenset[str]:
    """The words just before ("<word") and after (">word") each mention; in the headline ("h<", "h>")."""
    found = set()
    for index, (paragraph, found_spans) in enumerate(zip(paragraphs, spans, strict=True)):
        mark = "h" if index == 0 else ""
        for start, end in found_spans:
            found.update(f"{mark}<{w}" for w in paragraph.words[max(0, start - CONTEXT) : start])
            found.update(f"{mark}>{w}" for w in paragraph.words[end : end + CONTEXT])
    return frozenset(found)


def _title_cased(written: list[str]) -> bool:
    """A headline in title case ("Mistral Raises $2 Billion"): its capitals tell no names."""
    long = [w for w in written if len(w) > 3]
    return len(long) >= 2 and sum(w[0].isupper() for w in long) * 2 > len(long)


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
    path = subject_file(subject)
    data = json.loads(path.read_text(encoding="utf-8"))
    homonyms = {kind: frozenset(cues) for kind, cues in data["homonyms"].items()}
    return Subject(
        name=data["subject"],
        names=tuple(tuple(words(n)) for n in data["names"] if n not in data.get("case_sensitive", ())),
        ambiguous=frozenset(w for n in data["ambiguous"] for w in words(n)),
        shared=data["ambiguous"][0] if data["ambiguous"] else "",
        case_sensitive=tuple(data.get("case_sensitive", ())),
        past=frozenset(data.get("past_words", ())),
        titles=frozenset(data.get("titles", ())),
        weighing=load_weighing(path.parent / data["weighing"]) if "weighing" in data else None,
        borne={
            name: homonyms if senses == "homonyms" else {kind: frozenset(c) for kind, c in senses.items()}
            for name, senses in data.get("borne_by_others", {}).items()
        },
        cues=frozenset(data["ai_cues"]),
        homonyms=homonyms,
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
    "comic": "comic strip's cat",
    "cat": "cat",
}
SUBSTANTIVE_WORDS = 8  # a shorter line (an outlet's name, a byline, a footer) is no paragraph of the article


@dataclass
class _Paragraph:
    words: list[str]
    own: list[tuple[int, int]] = field(default_factory=list)  # the subject's own names: (start, end) words
    shared: list[int] = field(default_factory=list)  # positions of the shared name
    common: set[int] = field(default_factory=set)  # the shared name in lower case: a common noun (the wind)
    foreign: set[int] = field(
        default_factory=set
    )  # the shared name opening another's ("Mistral Électricité")
    sensed: dict[int, tuple[int, str, Senses]] = field(
        default_factory=dict
    )  # names others bear: length, name
    anaphors: int = 0
    first_anaphor: int | None = None
    rivals: int = 0  # names of the field's other organisations
    first_name: int | None = None  # the word where the first of the subject's own names starts


class SubjectJudge:
    """Judges articles against one subject; cheap and stateless (one pass over the words)."""

    def __init__(self, subject: Subject | None = None, weighing: Weighing | None = None) -> None:
        """`weighing`: by default the subject's own, when its data file names one."""
        self.subject = subject or load_subject()
        self.weighing = weighing or self.subject.weighing
        self._first_words = {n[0] for n in self.subject.names if n}
        self._anaphor_starts = {a[0] for a in self.subject.anaphors if a}
        self._rival_starts = {n[0] for n in self.subject.others if n}
        self._written = [tuple(_WORD_RE.findall(fold_accents(n))) for n in self.subject.case_sensitive]
        self._borne = {
            tuple(_WORD_RE.findall(fold_accents(n)) if n in self.subject.case_sensitive else words(n)): (
                n,
                senses,
            )
            for n, senses in self.subject.borne.items()
        }

    def judge(self, article: Article) -> Judgement:
        reading = self.read(article)
        if isinstance(reading, Judgement):
            return reading
        about, telling = reading.ruled, []
        if self.weighing is not None:
            about, _, telling = self.weighing.about(reading)
        where = f"{reading.named} of {reading.paragraphs} paragraphs"
        near = "; the words near it: " + ", ".join(t.lstrip("h<>") for t in telling) if telling else ""
        counts = (reading.mentions, reading.named)
        if about:
            place = (
                "the headline" if reading.in_headline else ("the lead" if reading.lead else "most paragraphs")
            )
            return Judgement(True, "about", f"names {self.subject.name} in {place}; {where}{near}", *counts)
        unnamed = "" if reading.in_headline else ", not in the headline"
        reason = f"a passing mention: {self.subject.name} in {where}{unnamed}{near}"
        return Judgement(False, "passing", reason, *counts)

    def read(self, article: Article) -> Reading | Judgement:
        """The article's reading, with the rules' decision; or the judgement itself when there is nothing
        to weigh (too short, or the subject not named in its sense)."""
        body = [p.text for p in article.passages if p.kind != "caption"]
        headline = self._read(article.title)
        paragraphs = [p for p in map(self._read, body) if len(p.words) >= SUBSTANTIVE_WORDS]
        if len(headline.words) + sum(len(p.words) for p in paragraphs) < SUBSTANTIVE_WORDS:
            return Judgement(False, "empty", "too short to judge: no text to speak of")
        everything = [headline, *paragraphs]
        article_words = Counter(w for p in everything for w in p.words)
        senses = self._senses(everything, article_words)
        # "a former Mistral AI researcher", "passée par Mistral AI": someone else's news, told by their past.
        spans = [
            [(start, end) for start, end in p.own + senses[i][0] if not self._past(p.words, start)]
            for i, p in enumerate(everything)
        ]
        mentions = [len(found) for found in spans]
        if not sum(mentions):
            return self._absent(senses)
        in_headline, lead = mentions[0] > 0, any(mentions[1 : 1 + LEAD_PARAGRAPHS])
        # "the company" stands for the subject once it is more than one name in a list of the field's.
        naming = [p for m, p in zip(mentions[1:], paragraphs, strict=True) if m > 0]
        # A headline that names the subject only after another ("X opens a campus, with Mistral AI among
        # its tenants") leaves "the company" to the other.
        opens = in_headline and self._opens_a_clause(article.title)
        # Without the headline, only a lead that names the subject in its first words makes it the one
        # "the company" stands for.
        early = any(start < LEAD_WORDS for found in spans[1 : 1 + LEAD_PARAGRAPHS] for start, _ in found)
        anaphors_count = opens or (
            lead and (in_headline or early) and (len(naming) >= 2 or naming[0].rivals < 2)
        )
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
            leads = opens or share >= 0.2  # "Guillaume Lample : « ... »", an interview
            about = rivals <= 2 * sum(mentions) and (leads if lead else share >= 0.25 or short)
        else:
            compared = rivals > 2 * sum(mentions) or (headline.rivals > 0 and short)
            # A brief whose headline does not name the subject is about it when it says so first: a name
            # or "the company" in its first words, not "backed by the fund that backs Mistral AI" at its end.
            starts = [start for start, _ in spans[1]] + [
                p.first_anaphor for p in paragraphs[:1] if p.first_anaphor is not None
            ]
            buried = short and min(starts, default=len(paragraphs[0].words)) >= EARLY_WORDS
            about = not compared and not buried and ((lead and share >= 0.3) or share >= 0.5)
        first = next((i for i, m in enumerate(mentions[1:]) if m), len(paragraphs))
        return Reading(
            in_headline=in_headline,
            opens=opens,
            lead=lead,
            paragraphs=len(paragraphs),
            named=sum(named),
            mentioned=sum(m > 0 for m in mentions[1:]),
            mentions=sum(mentions),
            first=first / max(1, len(paragraphs)),
            rivals=sum(p.rivals for p in paragraphs),
            headline_rivals=headline.rivals,
            other_senses=sum(n for _, met in senses for (_, sense), n in met.items() if sense != COMMON_NOUN),
            ruled=about,
            contexts=contexts(everything, spans),
            words=frozenset(w for w in article_words if len(w) > 2 and not w.isdigit()),
        )

    def off_subject(self, question: str) -> str | None:
        """Why a question is not about the subject, or None (the search decides). A question is short
        and typed in lower case, so it is read more warily than an article: the shared name with a word
        that names another of its senses ("prix d'un missile Mistral", "mistral hotel"), or no name of
        the subject and a word of another subject the data file lists (the weather, sport), and in
        both cases no word of the subject's field."""
        read = self._read(question)
        lowered = question.lower()
        if read.own or read.sensed or any(name.lower() in lowered for name in self.subject.case_sensitive):
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
        matches = list(_WORD_RE.finditer(fold_accents(text)))
        written = [m.group() for m in matches]
        folded = [word.lower() for word in written]
        paragraph = _Paragraph(folded)
        titled = _title_cased(written)
        i = 0
        while i < len(folded):
            length, borne = self._name_at(written, folded, i)
            if length:
                if borne is not None:
                    paragraph.sensed[i] = (
                        length,
                        *borne,
                    )  # "Le Chat" the comic's cat, "Mistral Large" a horse
                else:
                    paragraph.own.append((i, i + length))
                if paragraph.first_name is None:
                    paragraph.first_name = i
                i += length
                continue
            if folded[i] in self.subject.ambiguous:
                paragraph.shared.append(i)
                if written[i].islower():
                    paragraph.common.add(i)
                elif not titled and self._names_another(text, matches, written, folded, i):
                    paragraph.foreign.add(i)
            elif (length := self._anaphor_at(folded, i)) and not self._names_after(
                written, folded, i + length
            ):
                paragraph.anaphors += 1
                if paragraph.first_anaphor is None:
                    paragraph.first_anaphor = i
            elif folded[i] in self._rival_starts and any(
                tuple(folded[i : i + len(n)]) == n for n in self.subject.others
            ):
                paragraph.rivals += 1
            i += 1
        return paragraph

    def _names_another(
        self, text: str, matches: list[re.Match], written: list[str], folded: list[str], i: int
    ) -> bool:
        """Whether the shared name at word `i` is part of another's name: written, with only a space
        between, before a capitalised word ("Mistral Électricité", "Mistral Belle") or after one that does
        not open the sentence ("Hélène Mistral", "Groupe Mistral"); that word is no acronym ("Mistral CEO"),
        no article ("Le Mistral") and starts no name of the subject ("Mistral Le Chat"). After a person's
        title ("Mme Mistral", "Dr. Mistral"), it is a person's name."""

        def naming(j: int) -> bool:
            word = written[j]
            return (
                word[:1].isupper()
                and not word.isupper()
                and not word[1:].isdigit()
                and word.lower() not in _ARTICLES
                and not self._name_at(written, folded, j)[0]
            )

        def joined(j: int) -> bool:
            return text[matches[j].end() : matches[j + 1].start()].isspace()

        if i + 1 < len(matches) and joined(i) and naming(i + 1):
            return True
        if i > 0 and folded[i - 1] in self.subject.titles:
            return True
        if i == 0 or not joined(i - 1) or not naming(i - 1):
            return False
        before = text[: matches[i - 1].start()].rstrip()
        return bool(before) and before[-1] not in '.!?:;«"“—–-'

    def _past(self, folded: list[str], start: int) -> bool:
        return any(w in self.subject.past for w in folded[max(0, start - 2) : start])

    def _anaphor_at(self, folded: list[str], i: int) -> int:
        if folded[i] not in self._anaphor_starts:
            return 0
        return max((len(a) for a in self.subject.anaphors if tuple(folded[i : i + len(a)]) == a), default=0)

    def _names_after(self, written: list[str], folded: list[str], i: int) -> bool:
        """Whether a name of another follows within two words: "la start-up parisienne Clairvoie" is no
        anaphor of the subject, but an apposition to the other."""
        return any(
            written[j][:1].isupper() and not self._name_at(written, folded, j)[0]
            for j in range(i, min(i + 2, len(written)))
        )

    def _opens_a_clause(self, headline: str) -> bool:
        """Whether one of the subject's own names opens the headline or a clause of it ("Mistral AI raises...",
        "AI Act: Mistral AI publishes...")."""
        return any(self._read(clause).first_name == 0 for clause in _CLAUSE_RE.split(headline))

    def _name_at(
        self, written: list[str], folded: list[str], i: int
    ) -> tuple[int, tuple[str, Senses] | None]:
        """The length in words of the subject's name starting at word `i` (0: none; a name in
        `case_sensitive` counts only written so: "Le Chat", not "le chat"), and, when other things bear
        it too, the name and its other senses."""
        for name in self._written:
            if tuple(written[i : i + len(name)]) == name:
                return len(name), self._borne.get(name)
        if folded[i] not in self._first_words:
            return 0, None
        length = max((len(n) for n in self.subject.names if tuple(folded[i : i + len(n)]) == n), default=0)
        return length, self._borne.get(tuple(folded[i : i + length]))

    def _senses(
        self, paragraphs: list[_Paragraph], article_words: Counter
    ) -> list[tuple[list[tuple[int, int]], Counter]]:
        """Per paragraph: the names in the subject's sense (their words' spans), and the other senses met
        (name, kind). The shared name and the names other things bear too are told by the words near
        them; a name the words near it do not tell takes the sense the article gives that name elsewhere
        (one sense per article: "Mistral opened in 2022" in a piece on a bar called Mistral), and failing
        that, the sense of the article's words."""
        homonyms, shared = self.subject.homonyms, self.subject.shared
        met = []  # (paragraph, start, end, name, family, senses, sense told near it or None)
        told: Counter = Counter()  # (family, sense): what the words near a name told, over the article
        for index, paragraph in enumerate(paragraphs):
            for position in paragraph.shared + list(paragraph.sensed):
                length, name, senses = paragraph.sensed.get(position, (1, shared, homonyms))
                # "Mistral Large" is read as the shared name is; "Le Chat" and "le Chat" as one name.
                family = shared if senses is homonyms else name.lower()
                end = position + length
                if position in paragraph.common:
                    sense = COMMON_NOUN
                elif position in paragraph.foreign:
                    sense = "other"
                else:
                    # The words around the name, not the name's own ("Codestral" is a word of the field).
                    near = Counter(paragraph.words[max(0, position - WINDOW) : position])
                    near.update(paragraph.words[end : end + WINDOW])
                    sense = self._sense(near, senses)
                if sense and sense != COMMON_NOUN:  # the common noun (the wind) says nothing of the name
                    told[family, sense] += 1
                met.append((index, position, end, name, family, senses, sense))
        found = [([], Counter()) for _ in paragraphs]
        for index, position, end, name, family, senses, sense in met:
            sense = sense or self._told(told, family) or self._sense(article_words, senses)
            if sense == "subject":
                found[index][0].append((position, end))
            elif sense:
                found[index][1][name, sense] += 1
        return found

    @staticmethod
    def _told(told: Counter, family: str) -> str | None:
        """The other sense the article's other mentions of a name tell, when they tell only it. Not the
        subject's: its words (AI, a model) also fill articles on a bar of the AI crowd or a wind forecast,
        while a bar's or a stallion's words seldom stand beside the subject's name."""
        senses = {sense for name, sense in told if name == family}
        return senses.pop() if len(senses) == 1 and "subject" not in senses else None

    def _sense(self, near: Counter, senses: Senses) -> str | None:
        """The sense the words `near` tell: "subject", one of `senses`, or None when they tell none."""
        scores = {kind: sum(near[w] for w in cues) for kind, cues in senses.items()}
        scores["subject"] = sum(near[w] for w in self.subject.cues)
        best = max(scores, key=lambda kind: (scores[kind], kind != "subject"))
        return best if scores[best] else None

    def _absent(self, senses: list[tuple[list, Counter]]) -> Judgement:
        other = sum((s[1] for s in senses), Counter())
        if other:
            name, kind = other.most_common(1)[0][0]
            reason = f"another {name}: here the name is the {HOMONYM_NAMES.get(kind, kind)}"
            return Judgement(False, "homonym", reason, homonym=kind)
        return Judgement(False, "absent", f"does not name {self.subject.name}")
