"""Tidying an article's paragraphs after they are read, for every source (files, feeds, web pages).

The loader splits the text into `(kind, text)` blocks; these rules then fix what news layouts leave
behind, so that titles, snippets, summaries and search all see the article's own text:
- a wire dateline at the start of the lead (`PARIS, June 11 (Reuters) -`, `VIENNA (AP) —`, `LYON,
  3 mars (AFP) -`, `MUNICH —`) is removed from the paragraph;
- credit lines (`Interview by …`, `Updated 9 September 2025, 18:42`, `(Reporting by …; Editing by …)`,
  `Mis à jour le …`, an agency's initials trailer such as `jl/abc/def`) become captions;
- a first paragraph that is a headline the loader did not recognise (too long for a section heading,
  with no final full stop, or a single question opening an article) becomes the headline;
- a sentence left dangling where an embedded post, chart or video was removed (`… said in a post
  on X, writing:` followed by text that does not continue it) is set apart as a caption: kept for
  search, never quoted as a sentence of the article.

Every rule looks at a bounded prefix of a block with anchored patterns, so the cost is linear.
"""

from __future__ import annotations

import re

from search.models import PassageKind

Block = tuple[PassageKind, str]

LEAD_BLOCKS = 2  # a dateline opens the lead (or the paragraph after a kicker), nothing further down
HEADLINE_MAX_CHARS = 300
DANGLING_MIN_WORDS = 6  # "Key figures:" is a heading; "X said in a post on X, writing:" a dangling lead-in

_AGENCIES = r"Reuters|AP|AFP|dpa|DPA|Bloomberg|ANSA|EFE|Belga|ATS|Xinhua|Kyodo|UPI|CNN|BBC|Anadolu"
_CITY = r"[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’.\-]{2,}(?: [A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’.\-]+){0,3}"
_DATELINE_RE = re.compile(
    rf"^(?:(?:{_CITY})(?:,\s?[^,()\n–—-]{{1,30}}){{0,2}}\s?(?:\((?:{_AGENCIES})\)\s?)?|\((?:{_AGENCIES})\)\s?)"
    r"[-–—]{1,2}\s+(?=\S)"
)
_CREDIT_LINE_RE = re.compile(
    r"^(?:\(?(?:additional |with )?(?:reporting|writing|editing|reportage|rédaction|édition) (?:by|par)\b.{0,200}\)?"
    r"|(?:interview|text|words|photos?|video|entretien|texte|reportage) (?:by|par) \S.{0,60}"
    r"|(?:updated|published|last updated|mis à jour|publié|modifié)(?: on| le)?\s+(?=[^\n]{0,30}\d)\S.{0,60}"
    r"|(?:with|avec) (?:AFP|AP|Reuters|agencies|agences)\.?"
    r"|[a-z]{1,4}(?:/[a-z]{1,4}){1,5})$",
    re.IGNORECASE,
)
_FINAL_PUNCTUATION = (".", "!", "?", "…", ";", ",", ":", '"', "”", "»")
_SENTENCE_END_RE = re.compile(r"[.!?…]\s")
_DANGLING_END_RE = re.compile(r"\s?:\s*$")
_QUOTE_START = ('"', "“", "«", "‘", "'", "—", "–", "-")


def tidy_blocks(blocks: list[Block]) -> list[Block]:
    """The blocks with the rules above applied, in order."""
    blocks = [_credit(block) for block in blocks]
    blocks = _strip_dateline(blocks)
    blocks = _mark_headline(blocks)
    return _set_apart_dangling(blocks)


def take_headline(blocks: list[Block]) -> tuple[str | None, list[Block]]:
    """The headline (the first heading, when only captions come before it) and the other blocks."""
    for i, (kind, text) in enumerate(blocks):
        if kind == "heading":
            return text, blocks[:i] + blocks[i + 1 :]
        if kind != "caption":
            break
    return None, blocks


def strip_dateline(text: str) -> str:
    """`text` without a wire dateline at its start: `VIENNA (AP) — The agency…` -> `The agency…`."""
    match = _DATELINE_RE.match(text[:120])
    return text[match.end() :] if match else text


def is_credit_line(text: str) -> bool:
    """A byline, an update time, a reporting credit or an agency's initials: not the article's text."""
    return len(text) <= 260 and bool(_CREDIT_LINE_RE.match(text.strip()))


def _credit(block: Block) -> Block:
    kind, text = block
    return ("caption", text) if kind in ("body", "heading") and is_credit_line(text) else block


def _strip_dateline(blocks: list[Block]) -> list[Block]:
    tidied = list(blocks)
    seen = 0
    for i, (kind, text) in enumerate(blocks):
        if kind != "body":
            continue
        stripped = strip_dateline(text)
        if stripped != text:
            tidied[i] = (kind, stripped)
            break
        seen += 1
        if seen >= LEAD_BLOCKS:
            break
    return tidied


def _mark_headline(blocks: list[Block]) -> list[Block]:
    """A first body paragraph that reads as a headline, followed by the article's text, is the headline."""
    first = next((i for i, (kind, _) in enumerate(blocks) if kind != "caption"), None)
    if first is None or blocks[first][0] != "body":
        return blocks
    text = blocks[first][1]
    follows = any(kind == "body" for kind, _ in blocks[first + 1 :])
    if follows and looks_like_headline(text):
        return [*blocks[:first], ("heading", text), *blocks[first + 1 :]]
    return blocks


def looks_like_headline(text: str) -> bool:
    """One line, not too long, and either no final punctuation (two sentences at most) or one question."""
    text = text.strip()
    if "\n" in text or len(text) > HEADLINE_MAX_CHARS or len(text.split()) < 3:
        return False
    inner_ends = len(_SENTENCE_END_RE.findall(text))
    if not text.endswith(_FINAL_PUNCTUATION):
        return inner_ends <= 1
    return text.endswith("?") and inner_ends == 0 and len(text) <= 160


def _set_apart_dangling(blocks: list[Block]) -> list[Block]:
    tidied: list[Block] = []
    for i, (kind, text) in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if kind in ("body", "heading") and _dangles(text, following):
            head, tail = _split_last_sentence(text)
            if head:
                tidied.append((kind, head))
            tidied.append(("caption", tail))
        else:
            tidied.append((kind, text))
    return tidied


def _dangles(text: str, following: Block | None) -> bool:
    """Ends with a colon announcing something that is not there (the next block does not continue it)."""
    if not _DANGLING_END_RE.search(text[-3:]):
        return False
    if len(_split_last_sentence(text)[1].split()) < DANGLING_MIN_WORDS:
        return False
    if following is None:
        return True
    kind, next_text = following
    return kind not in ("list", "embed") and not next_text.lstrip().startswith(_QUOTE_START)


def _split_last_sentence(text: str) -> tuple[str, str]:
    """(`text` before its last sentence, the last sentence): a cheap split on the last `. `."""
    cut = max(text.rfind(mark, 0, len(text) - 2) for mark in (". ", "! ", "? ", "… "))
    if cut < 0:
        return "", text
    return text[: cut + 1].rstrip(), text[cut + 2 :].strip()
