"""The data the library works on: articles, their passages, and search hits."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "fr"]
PassageKind = Literal["body", "list", "heading", "caption", "embed"]
# Where an article's date comes from: its text, its web page, its feed item, or the day it was first seen.
DateSource = Literal["text", "page", "feed", "first_seen"]
Span = tuple[int, int]


class Passage(BaseModel):
    """A paragraph-sized piece of an article: the unit that search ranks and cites."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    position: int
    text: str
    kind: PassageKind = "body"
    # Character spans of the sentences in `text`, computed once at load time.
    sentences: tuple[Span, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.article_id}:{self.position}"

    @property
    def searchable(self) -> bool:
        """Headings are too short to answer anything on their own."""
        return self.kind != "heading"


class Citation(BaseModel):
    """Where a snippet comes from: enough for a reader to check it."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    title: str
    date: dt.date | None = None
    source: str
    language: Language = "en"
    url: str | None = None  # the article's web address; None for a file
    outlet: str | None = None  # who published it, e.g. "EuroWire"
    date_source: DateSource | None = None


# What a citation repeats of its article, besides the id (`article_id` there, `id` here).
CITED = ("title", "date", "source", "language", "url", "outlet", "date_source")


class Article(BaseModel):
    """One news article, parsed from one file of the articles folder."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    date: dt.date | None = None
    language: Language = "en"
    source: str
    text: str
    passages: tuple[Passage, ...] = ()
    url: str | None = None  # the article's web address; None for a file
    outlet: str | None = None  # who published it, e.g. "EuroWire"
    date_source: DateSource | None = None

    @property
    def citation(self) -> Citation:
        return Citation(article_id=self.id, **{name: getattr(self, name) for name in CITED})


class Snippet(BaseModel):
    """The best sentence or two of a passage, with the spans of the query's words."""

    model_config = ConfigDict(frozen=True)

    text: str
    highlights: tuple[Span, ...] = ()

    def marked(self, before: str = "**", after: str = "**", escape=None) -> str:
        """The text with each highlight wrapped in `before`/`after`; `escape` applies to the text only."""
        escape = escape or (lambda s: s)
        out, cursor = [], 0
        for start, end in self.highlights:
            out.append(escape(self.text[cursor:start]))
            out.append(before + escape(self.text[start:end]) + after)
            cursor = end
        out.append(escape(self.text[cursor:]))
        return "".join(out)


class Hit(BaseModel):
    """One search result: a passage, why it ranked, and where it comes from."""

    model_config = ConfigDict(frozen=True)

    score: float
    passage: Passage
    snippet: Snippet
    citation: Citation
    terms: tuple[str, ...] = Field(default=(), description="The analysed query terms the passage matched.")


def construct(model: type[BaseModel], fields: dict) -> BaseModel:
    """`model.model_construct(**fields)` for `fields` that name every field of a model without aliases
    or post-init (what pydantic's version does then), without its per-field loop: 4x faster. For the
    values the library makes itself, already of the right types (a hit's passage, citation, snippet)."""
    made = model.__new__(model)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", set(fields))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made
