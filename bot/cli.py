"""`python -m bot serve | search | summarize | ingest | feeds | export | remove | manifest`: the command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from search import Article, QueryError, SearchIndex, clean_query, load_articles
from search.models import Hit

BOLD, RESET = "\033[1m", "\033[0m"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Mistral AI news: search, summaries, Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("serve", help="run the Slack app (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN)")

    search = commands.add_parser("search", help="print the best cited snippets for a query")
    search.add_argument("query", nargs="+", help="the words to look for")
    search.add_argument("--limit", type=int, default=5, help="how many results (1-50, default 5)")
    search.add_argument("--json", action="store_true", help="print JSON instead of text")
    search.add_argument("--articles", type=Path, default=None, help="articles folder (default ARTICLES_DIR)")

    summarize = commands.add_parser("summarize", help="print the summary of an article file")
    summarize.add_argument("file", type=Path)
    summarize.add_argument("--json", action="store_true", help="print JSON instead of text")

    ingest = commands.add_parser(
        "ingest", help="add articles from files or links (http:// or https://) to the store"
    )
    ingest.add_argument("files", nargs="+", metavar="FILE_OR_URL")

    feeds = commands.add_parser("feeds", help="list, add or remove the feeds to poll")
    feeds.add_argument("action", choices=["list", "add", "remove"])
    feeds.add_argument("urls", nargs="*", metavar="URL")

    commands.add_parser("export", help="print every article as JSON lines (the backup and audit view)")

    remove = commands.add_parser("remove", help="take articles out (a takedown or a correction)")
    remove.add_argument("targets", nargs="+", metavar="ID_OR_URL")

    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument(
        "--url", default=None, help="public base URL for HTTP mode, e.g. https://bot.example.com"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from bot.settings import SettingsError

    try:
        return run(args)
    except SettingsError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.command == "search":
        return run_search(args)
    if args.command == "summarize":
        return run_summarize(args)
    from bot.settings import load_settings

    settings = load_settings(require_slack=args.command == "serve")
    if args.command == "serve":
        from bot.server import serve

        serve(settings)
        return 0
    if args.command == "ingest":
        from bot.source_commands import run_ingest

        return run_ingest(settings, args.files)
    if args.command == "feeds":
        from bot.source_commands import run_feeds

        if args.action != "list" and not args.urls:
            print(f"feeds {args.action} needs at least one URL.", file=sys.stderr)
            return 2
        return run_feeds(settings, args.action, args.urls)
    if args.command == "export":
        from bot.source_commands import run_export

        return run_export(settings)
    if args.command == "remove":
        from bot.source_commands import run_remove

        return run_remove(settings, args.targets)
    if args.command == "manifest":
        from bot.manifest import manifest_text

        print(manifest_text(settings, args.url))
        return 0
    return 2


def articles_folder(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    from bot.settings import load_settings

    return Path(load_settings(require_slack=False).articles_dir)


def run_search(args: argparse.Namespace) -> int:
    try:
        query = clean_query(" ".join(args.query))
    except QueryError as error:
        print(error, file=sys.stderr)
        return 2
    if not 1 <= args.limit <= 50:
        print("--limit must be between 1 and 50.", file=sys.stderr)
        return 2
    index = SearchIndex()
    articles = load_articles(articles_folder(args.articles))
    for article in with_stored_articles(articles) if args.articles is None else articles:
        index.add(article)
    hits = index.search(query, limit=args.limit)
    if args.json:
        print(json.dumps(hits_json(query, hits), ensure_ascii=False, indent=2))
    else:
        print(render_hits_text(query, hits, color=sys.stdout.isatty()))
    return 0


def with_stored_articles(articles: list[Article]) -> list[Article]:
    """When the store exists: the folder's articles with the dates it gave them (first seen), and the
    articles it holds beyond the folder (links, feeds, added files)."""
    from bot.settings import load_settings
    from bot.store import SqliteStore, article_of, sqlite_path

    try:
        path = sqlite_path(load_settings(require_slack=False).database_url)
    except ValueError:
        return articles
    if not path.is_file():
        return articles
    store = SqliteStore(path)
    try:
        stored = {a.id: a for a in store.active_articles()}
    finally:
        store.close()
    dated = [
        a.model_copy(update={"date": stored[a.id].date, "date_source": stored[a.id].date_source})
        if a.date is None and a.id in stored and stored[a.id].date
        else a
        for a in articles
    ]
    folder_ids = {a.id for a in articles}
    return dated + [article_of(s) for s in stored.values() if s.origin != "folder" and s.id not in folder_ids]


def hits_json(query: str, hits: list[Hit]) -> dict:
    return {
        "query": query,
        "hits": [
            {
                "rank": rank,
                "score": round(hit.score, 4),
                "article_id": hit.citation.article_id,
                "title": hit.citation.title,
                "date": hit.citation.date.isoformat() if hit.citation.date else None,
                "source": hit.citation.source,
                "url": hit.citation.url,
                "outlet": hit.citation.outlet,
                "passage": hit.passage.text,
                "snippet": hit.snippet.marked("**", "**"),
            }
            for rank, hit in enumerate(hits, start=1)
        ],
    }


def render_hits_text(query: str, hits: list[Hit], color: bool = False) -> str:
    if not hits:
        return f'Nothing found for "{query}". Try other words, a name, or fewer words.'
    before, after = (BOLD, RESET) if color else ("**", "**")
    lines = [f'Results for "{query}":', ""]
    for rank, hit in enumerate(hits, start=1):
        citation = hit.citation
        date = citation.date.isoformat() if citation.date else "undated"
        if citation.date_source == "first_seen":
            date = f"first seen {date}"
        lines.append(f"{rank}. {hit.snippet.marked(before, after)}")
        if citation.url:
            lines.append(
                f"   [{rank}] {citation.title} ({date}), {citation.outlet or citation.source}: {citation.url}"
            )
        else:
            lines.append(f"   [{rank}] {citation.title} ({date}), {citation.source}")
        lines.append("")
    return "\n".join(lines).rstrip()


def run_summarize(args: argparse.Namespace) -> int:
    from search import load_article
    from search.summary import summarize

    article = load_article(args.file)
    if article is None:
        print(f"Cannot summarise {args.file}: see the message above.", file=sys.stderr)
        return 2
    summary = summarize(article)
    if args.json:
        payload = {
            "title": article.title,
            "date": article.date.isoformat() if article.date else None,
            "language": article.language,
            "summary": summary,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        date = article.date.isoformat() if article.date else "undated"
        print(f"{article.title} ({date}, {article.language})\n\n{summary}")
    return 0
