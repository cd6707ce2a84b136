"""Reading the articles folder: one `*.txt` or `*.md` file is one article.

What the files contain, and what the loader makes of it:
- an optional `date YYYY-MM-DD` marker at the start of the first line, followed on that line by a photo
  caption (kept as a `caption` passage) or by the start of the text;
- a headline (a short first line with no final full stop), or none, in which case a title is derived from
  the first sentence;
- paragraphs separated by blank lines, or one paragraph per line; section headings, bullet lists, an
  embedded social-media post, bylines; a paragraph repeated word for word, or repeated inside one of the
  paragraphs near it, is kept once;
- English or French, detected from the text.

Every step is linear in the file's size: no step compares every paragraph with every other, and no
regular expression that could backtrack runs over text of unbounded length (a line is measured before a
pattern meant for short lines is tried on it).

After reading, every source's paragraphs are tidied the same way (`tidy_blocks`: files, feeds, web
pages), and sentence boundaries come from sentencex (rule-based, English and French abbreviations known).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from sentencex import segment

from search.analysis import detect_language
from search.models import Article, Language, Passage, PassageKind, Span

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".md")
TEMP_SUFFIXES = (".swp", ".swx", ".part", ".tmp", ".crdownload", ".partial")
LOADER_VERSION = 1  # bump on any change of the passages a text gives: saved indexes are then rebuilt
MAX_ARTICLE_BYTES = 5 * 1024 * 1024  # a larger file is refused without being read
# Too big to be a news article (a long read is about 60,000 characters in 150 passages): a dump, a log
# or a book. It is refused before the costly steps (indexing, near-copies, the summary), which take
# seconds on a 2 MB file of 100,000 paragraphs and would hold up the files after it.
MAX_ARTICLE_CHARS = 100_000
MAX_PASSAGES = 1_000
MAX_PASSAGE_CHARS = 700  # longer paragraphs are split at sentence boundaries, lists between items
TITLE_CHARS = 100
REPEAT_WINDOW = 3  # a paragraph repeated inside one of the 3 paragraphs before or after it is dropped
SHORT_LINE_CHARS = 200  # the patterns for headings and embed attributions are tried on lines this short

_DATE_RE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*", re.IGNORECASE)
_CREDIT_AGENCIES = ("afp", "reuters", "ap")
_CREDIT_PREFIXES = ("photo", "getty")
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-•*▪◦]|\d{1,2}[.)])\s+\S")
_EMBED_ATTRIBUTION_RE = re.compile(r"^[—–-]\s*.{1,80}\(@\w{1,30}\)\s+\w+\.? \d{1,2}, \d{4}\s*$")
_BYLINE_RE = re.compile(
    r"^(?:by|par|comments collected by|propos recueillis par)\s+\S.{0,60}$", re.IGNORECASE
)
_DASHED_HEADING_RE = re.compile(r"^[–—-]\s*.{1,80}\s*[–—-]$")
_SPEAKER_RE = re.compile(r"^[A-Z][\w.'’ ]{1,30}\s[–—]\s")
_SENTENCE_END = tuple('.!?…:;"”»)')
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ArticleFileError(ValueError):
    """A file that cannot be an article; the message says why."""


def load_articles(folder: str | Path) -> list[Article]:
    """Every readable article of `folder`, in file-name order; unreadable files are logged and skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        log.warning("Articles folder %s does not exist; no articles loaded", folder)
        return []
    articles: dict[str, Article] = {}
    for path in sorted(article_paths(folder)):
        article = load_article(path, source=path.relative_to(folder).as_posix())
        if article is None:
            continue
        if article.id in articles:
            log.info("Skipped %s: same content as %s", path, articles[article.id].source)
            continue
        articles[article.id] = article
    return list(articles.values())


def article_paths(folder: Path) -> Iterable[Path]:
    """The article files under `folder`; hidden folders (`.Trash`, `.git`, `.venv`) are not entered."""
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            path = Path(root, name)
            if is_article_name(name) and not path.is_dir():
                yield path


def in_hidden_folder(path: Path, folder: Path) -> bool:
    """True when a folder between `folder` and `path` is hidden (its name starts with a dot)."""
    try:
        parts = path.relative_to(folder).parts[:-1]
    except ValueError:
        return False
    return any(part.startswith(".") for part in parts)


def is_article_name(name: str) -> bool:
    """An article file name: `.txt` or `.md`, not hidden, not an editor's or a download's temp file."""
    lowered = name.lower()
    if name.startswith((".", "~", "#")) or name.endswith(("~", "#")):
        return False
    return lowered.endswith(ARTICLE_SUFFIXES) and not lowered.endswith(TEMP_SUFFIXES)


def load_article(path: str | Path, source: str | None = None) -> Article | None:
    """The article in `path`, or None after one log line naming the file and the reason."""
    path = Path(path)
    try:
        return parse_limited(read_article_text(path), source or path.name)
    except (ArticleFileError, OSError) as error:
        log.warning("Skipped %s: %s", path, error)
        return None


def parse_limited(text: str, source: str) -> Article:
    """`parse_article` for a text that must be one news article: ArticleFileError when it is longer
    than MAX_ARTICLE_CHARS (told before it is parsed) or gives more than MAX_PASSAGES passages."""
    if len(text) > MAX_ARTICLE_CHARS:
        raise ArticleFileError(
            f"too long for a news article ({len(text):,} characters; the limit is {MAX_ARTICLE_CHARS:,})"
        )
    article = parse_article(text, source)
    if len(article.passages) > MAX_PASSAGES:
        raise ArticleFileError(
            f"too many passages for a news article ({len(article.passages):,}; the limit is {MAX_PASSAGES:,})"
        )
    return article


def read_article_text(path: Path) -> str:
    """The file's text: UTF-8, or Windows-1252/Latin-1 for older files; binary or empty files refused."""
    size = path.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        raise ArticleFileError(f"too large ({size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,})")
    data = path.read_bytes()
    if not data.strip():
        raise ArticleFileError("empty file")
    if b"\x00" in data[:8192]:
        raise ArticleFileError("binary content (NUL bytes), not text")
    text = decode(data, path)
    if len(_CONTROL_RE.findall(text)) > max(2, len(text) // 100):
        raise ArticleFileError("binary content (control characters), not text")
    if not any(c.isalpha() for c in text):
        raise ArticleFileError("no words in the file")
    return text


def decode(data: bytes, path: Path | str = "") -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        encoding = "Windows-1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        encoding = "Latin-1"
    log.warning("%s is not UTF-8; read it as %s", path, encoding)
    return text


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL_RE.sub("", text).replace("\u00a0", " ").replace("\t", " ")
    return text.strip("\ufeff")


def article_id(text: str) -> str:
    """Stable id from the content: the same text under another file name is the same article."""
    canonical = " ".join(normalise(text).split())
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def parse_article(text: str, source: str) -> Article:
    """An article from the text of one file; `source` says where it came from."""
    text = normalise(text)
    if not text.strip():
        raise ArticleFileError("empty file")
    aid = article_id(text)
    date, first_line_rest, body = _split_date(text)
    blocks = _blocks(body)
    if first_line_rest:
        kind: PassageKind = "caption" if is_credit(first_line_rest) else "body"
        blocks.insert(0, (kind, first_line_rest))
    headline, blocks = take_headline(tidy_blocks(blocks))
    blocks = _drop_repeats(blocks)
    language = detect_language(" ".join(t for k, t in blocks if k in ("body", "list")) or text)
    passages = _passages(aid, blocks, language)
    title = headline or derive_title(blocks, language)
    return Article(
        id=aid, title=title, date=date, language=language, source=source, text=text, passages=passages
    )


def _split_date(text: str) -> tuple[dt.date | None, str, str]:
    match = _DATE_RE.match(text)
    if not match:
        return None, "", text
    try:
        date = dt.date.fromisoformat(match.group(1))
    except ValueError:
        log.warning("Ignored an invalid date marker %r", match.group(1))
        date = None
    rest = text[match.end() :]
    first, _, body = rest.partition("\n")
    return date, first.strip(), body


def is_credit(line: str) -> bool:
    """A photo credit ends the line: `(Photo: AFP)`, `(Getty Images)`, `(AP)`, `(Name/Agency)`.

    Only the last parenthesis is looked at, so the check is linear whatever the line holds.
    """
    line = line.rstrip()
    opening = line.rfind("(")
    if not line.endswith(")") or opening < 0:
        return False
    inside = line[opening + 1 : -1]
    if ")" in inside:
        return False
    lowered = inside.lower()
    return "/" in inside or lowered.startswith(_CREDIT_PREFIXES) or lowered in _CREDIT_AGENCIES


def _blocks(body: str) -> list[tuple[PassageKind, str]]:
    """Paragraphs with their kind, in order; wrapped lines are joined, list items grouped."""
    blocks: list[tuple[PassageKind, list[str]]] = []
    for lines in _paragraph_lines(body):
        for line in _join_wrapped(lines):
            kind = _kind(line)
            if kind == "list" and blocks and blocks[-1][0] == "list":
                blocks[-1][1].append(line)
            elif _is_embed_attribution(line) and blocks and blocks[-1][0] in ("body", "embed"):
                blocks[-1] = ("embed", [*blocks[-1][1], line])
            else:
                blocks.append((kind, [line]))
    return [(kind, "\n".join(lines)) for kind, lines in blocks]


def _paragraph_lines(body: str) -> Iterable[list[str]]:
    """The non-blank lines of each paragraph, stripped; paragraphs are separated by blank lines."""
    lines: list[str] = []
    for line in body.split("\n"):
        line = line.strip()
        if line:
            lines.append(line)
        elif lines:
            yield lines
            lines = []
    if lines:
        yield lines


def _join_wrapped(lines: list[str]) -> list[str]:
    joined: list[list[str]] = []
    for line in lines:
        wrapped = joined and not joined[-1][-1].endswith(_SENTENCE_END) and line[:1].islower()
        if wrapped and not _LIST_ITEM_RE.match(line):
            joined[-1].append(line)
        else:
            joined.append([line])
    return [" ".join(parts) for parts in joined]


def _is_embed_attribution(line: str) -> bool:
    return len(line) <= SHORT_LINE_CHARS and bool(_EMBED_ATTRIBUTION_RE.match(line))


def _kind(line: str) -> PassageKind:
    if _is_embed_attribution(line) or re.search(r"https?://t\.co/|pic\.twitter\.com", line):
        return "embed"
    if len(line) <= SHORT_LINE_CHARS and _DASHED_HEADING_RE.match(line):
        return "heading"
    if _LIST_ITEM_RE.match(line):
        return "list"
    if _BYLINE_RE.match(line):
        return "caption"
    if is_heading(line):
        return "heading"
    return "body"


def is_heading(line: str) -> bool:
    """Short, few words, no final full stop: a headline or a section heading."""
    words = line.split()
    return (
        len(line) <= 120 and len(words) <= 16 and not line.rstrip().endswith((".", "!", "?", "…", ",", ";"))
    )


def _drop_repeats(blocks: list[tuple[PassageKind, str]]) -> list[tuple[PassageKind, str]]:
    """A paragraph repeated word for word, or inside a paragraph near it, is kept once (the longer).

    Linear: word-for-word repeats anywhere are found with a set; a paragraph (40 characters or more)
    is looked for only inside the REPEAT_WINDOW paragraphs on either side of it, where teasers and
    copy-paste repeats sit, with Python's substring search, which is linear.
    """
    keys = [" ".join(text.lower().split()) for _, text in blocks]
    seen: set[str] = set()
    kept = []
    for i, block in enumerate(blocks):
        key = keys[i]
        if key in seen:
            continue
        seen.add(key)
        near = keys[max(0, i - REPEAT_WINDOW) : i + REPEAT_WINDOW + 1]
        if len(key) >= 40 and any(key != other and key in other for other in near):
            continue
        kept.append(block)
    return kept


def _passages(aid: str, blocks: list[tuple[PassageKind, str]], language: Language) -> tuple[Passage, ...]:
    passages: list[Passage] = []
    for kind, text in blocks:
        for piece in _pieces(kind, text, language):
            spans = sentence_spans(piece, language)
            passages.append(
                Passage(article_id=aid, position=len(passages), text=piece, kind=kind, sentences=spans)
            )
    return tuple(passages)


def _pieces(kind: PassageKind, text: str, language: Language) -> list[str]:
    """A block cut into passages of about MAX_PASSAGE_CHARS: a list between its items, prose between
    sentences, so that no passage is so long that searching or quoting it costs much."""
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    if kind == "body" or "\n" not in text:
        return _split_long(text, language)
    pieces: list[list[str]] = []
    size = 0
    for line in text.split("\n"):
        if pieces and size + 1 + len(line) <= MAX_PASSAGE_CHARS:
            pieces[-1].append(line)
            size += 1 + len(line)
        else:
            pieces.append([line])
            size = len(line)
    return ["\n".join(lines) for lines in pieces]


def _split_long(text: str, language: Language) -> list[str]:
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    pieces: list[str] = []
    current = ""
    for start, end in sentence_spans(text, language):
        sentence = text[start:end].strip()
        if current and len(current) + len(sentence) + 1 > MAX_PASSAGE_CHARS * 0.7:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def derive_title(blocks: list[tuple[PassageKind, str]], language: Language) -> str:
    """A readable title for an article without a headline: its first sentence, shortened."""
    text = next((t for k, t in blocks if k == "body"), None) or next((t for _, t in blocks), "Untitled")
    text = _SPEAKER_RE.sub("", text, count=1)
    # The title is a hundred characters at most: the first sentence is looked for near the start only.
    start, end = sentence_spans(text[: 10 * TITLE_CHARS], language)[0] if text else (0, 0)
    sentence = text[start:end].strip().rstrip(".:;,")
    return shorten(sentence or text, TITLE_CHARS)


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:–—-")
    return cut + "…"


_SHORT_FRAGMENT = 4  # "M. " alone is an abbreviation cut, not a sentence
# sentencex takes time quadratic in the length of some text (a long run of opening quotes): it is given
# the text in pieces of at most this many characters, cut after a sentence's end where there is one.
SEGMENT_CHARS = 1000
_PIECE_ENDS = (". ", "! ", "? ", "… ", "\n")


def sentence_spans(text: str, language: Language) -> tuple[Span, ...]:
    """Character spans of the sentences of `text`, covering its words, without surrounding spaces."""
    spans: list[Span] = []
    for piece_start, piece_end in _segment_pieces(text):
        cursor = piece_start
        for sentence in segment(language, text[piece_start:piece_end]):
            stripped = sentence.strip()
            if not stripped:
                continue
            start = text.find(stripped, cursor, piece_end)
            if start < 0:
                continue
            end = start + len(stripped)
            if spans and (end - start <= _SHORT_FRAGMENT or _is_abbreviation(text, spans[-1])):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            cursor = end
    return tuple(spans) or ((0, len(text)),)


def _segment_pieces(text: str) -> Iterator[Span]:
    """`text` in consecutive pieces of at most SEGMENT_CHARS, cut after a sentence's end, or a space."""
    start = 0
    while len(text) - start > SEGMENT_CHARS:
        limit = start + SEGMENT_CHARS
        middle = start + SEGMENT_CHARS // 2
        cut = max(text.rfind(end, middle, limit) + len(end) for end in _PIECE_ENDS)
        if cut <= middle:
            cut = text.rfind(" ", middle, limit) + 1
        if cut <= middle:
            cut = limit
        yield start, cut
        start = cut
    yield start, len(text)


def _is_abbreviation(text: str, span: Span) -> bool:
    start, end = span
    return end - start <= _SHORT_FRAGMENT and bool(re.fullmatch(r"\w{1,3}\.", text[start:end]))


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
