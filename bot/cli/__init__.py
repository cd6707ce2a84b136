"""`python -m bot serve | search | summarize | ingest | feeds | export | remove | report | manifest`: the command line."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path

from search import Article, Citation, QueryError, load_articles
from search.asking import Answer, ask
from search.judgement.subject import SubjectJudge, load_subject

BOLD, RESET = "\033[1m", "\033[0m"
MAX_REPORT_DAYS = 3650


def program_name(argv0: str | None = None) -> str:
    """How the user called us: `mistral-bot`, or `python -m bot`."""
    name = Path(argv0 if argv0 is not None else sys.argv[0]).name
    return "python -m bot" if name in ("__main__.py", "") else name


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or program_name(), description="Mistral AI news: search, summaries, Slack."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("serve", help="run the Slack app (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN)")

    search = commands.add_parser("search", help="print the best cited snippets for a query")
    search.add_argument("query", nargs="+", help="the words to look for")
    search.add_argument("--limit", type=int, default=5, help="how many results (1-50, default 5)")
    search.add_argument("--json", action="store_true", help="print JSON instead of text")
    search.add_argument(
        "--articles", type=Path, default=None, help="the articles folder (default: the ARTICLES_DIR setting)"
    )

    summarize = commands.add_parser("summarize", help="print the summary of an article file")
    summarize.add_argument("file", type=Path, help="an article file (.txt or .md)")
    summarize.add_argument("--json", action="store_true", help="print JSON instead of text")

    ingest = commands.add_parser(
        "ingest", help="add articles from files or links (http:// or https://) to the store"
    )
    ingest.add_argument(
        "files", nargs="+", metavar="FILE_OR_URL", help="article files (.txt or .md) or links to articles"
    )
    ingest.add_argument(
        "--anyway", action="store_true", help="add links even when judged off the subject (SUBJECT)"
    )

    feeds = commands.add_parser("feeds", help="list, add or remove the feeds to poll")
    feeds.add_argument("action", choices=["list", "add", "remove"], help="what to do")
    feeds.add_argument("urls", nargs="*", metavar="URL", help="the feeds to add or remove")

    commands.add_parser("export", help="print every article as JSON lines (the backup and audit view)")

    remove = commands.add_parser("remove", help="take articles out (a takedown or a correction)")
    remove.add_argument(
        "targets", nargs="+", metavar="ID_OR_URL", help="article ids (see export) or article links"
    )

    report = commands.add_parser(
        "report",
        help="print the questions with no answer or a 👎 in a period, the most frequent first, and the"
        " articles left out as off-subject, by feed and reason",
    )
    report.add_argument(
        "--days", type=report_days, default=7.0, help="the period: the last N days (default 7)"
    )

    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument(
        "--url", default=None, help="public base URL for HTTP mode, e.g. https://bot.example.com"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.logs import configure_logging
    from bot.settings import SettingsError, load_settings
    from bot.stores.types import StoreUnavailable

    try:
        settings = load_settings(require_slack=args.command == "serve")
        configure_logging(settings.log_level)
        return run(args, settings)
    except (SettingsError, StoreUnavailable) as error:
        print(f"{failure_prefix(args.command)}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return stdout_closed()


def failure_prefix(command: str) -> str:
    """`Cannot start` for the server; the command's own name for the others (`python -m bot search`)."""
    return "Cannot start" if command == "serve" else f"{program_name()} {command}"


def stdout_closed() -> int:
    """The reader of our output went away (`... | head`): stop quietly, as Unix tools do.

    Python would report the pipe again when it flushes stdout at exit, so stdout goes to devnull."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def report_days(text: str) -> float:
    """`report --days N`: a number of days above 0 and at most ten years."""
    try:
        days = float(text)
    except ValueError:
        days = math.nan
    if not 0 < days <= MAX_REPORT_DAYS:
        raise argparse.ArgumentTypeError(
            f"must be a number of days above 0 and at most {MAX_REPORT_DAYS}, e.g. 7"
        )
    return days


def run(args: argparse.Namespace, settings) -> int:
    if args.command == "search":
        return run_search(args, articles_folder(args.articles, settings.articles_dir), settings)
    if args.command == "summarize":
        return run_summarize(args)
    if args.command == "serve":
        from bot.server.http import serve

        serve(settings)
        return 0
    if args.command == "ingest":
        from bot.cli.sources import run_ingest

        return run_ingest(settings, args.files, anyway=args.anyway)
    if args.command == "feeds":
        from bot.cli.sources import run_feeds

        if args.action != "list" and not args.urls:
            print(f"feeds {args.action} needs at least one URL.", file=sys.stderr)
            return 2
        return run_feeds(settings, args.action, args.urls, how_to_add=f"{program_name()} feeds add URL")
    if args.command == "export":
        from bot.cli.sources import run_export

        return run_export(settings)
    if args.command == "report":
        from bot.cli.sources import run_report

        return run_report(settings, args.days)
    if args.command == "remove":
        from bot.cli.sources import run_remove

        return run_remove(settings, args.targets)
    if args.command == "manifest":
        from bot.server.manifest import manifest_text

        print(manifest_text(settings, args.url))
        return 0
    return 2


def articles_folder(explicit: Path | None, configured: str) -> Path:
    """The folder to search: --articles, else ARTICLES_DIR; SettingsError when it is not a folder."""
    from bot.settings import SettingsError

    folder = explicit if explicit is not None else Path(configured)
    name = "--articles" if explicit is not None else "ARTICLES_DIR"
    if not folder.is_dir():
        problem = "does not exist" if not folder.exists() else "is not a folder"
        raise SettingsError(
            f"{name} {str(folder)!r} {problem} (looked for from {Path.cwd()}): "
            "give the articles folder, e.g. --articles path/to/seeds."
        )
    return folder


def run_search(args: argparse.Namespace, folder: Path, settings) -> int:
    """The answer Slack gives to the same text (filters, `latest`), printed."""
    if not 1 <= args.limit <= 50:
        print("--limit must be between 1 and 50.", file=sys.stderr)
        return 2
    from bot.news.search_index import new_index

    index = new_index(settings)
    articles = load_articles(folder)
    for article in with_stored_articles(articles, settings) if args.articles is None else articles:
        index.add(article)
    try:
        found = ask(
            index, " ".join(args.query), limit=args.limit, judge=SubjectJudge(load_subject(settings.subject))
        )
    except QueryError as error:
        print(error, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer_json(found), ensure_ascii=False, indent=2))
    else:
        print(render_answer_text(found, color=sys.stdout.isatty()))
    return 0


def with_stored_articles(articles: list[Article], settings) -> list[Article]:
    """When the store exists: the folder's articles with the dates it gave them (first seen), and the
    articles it holds beyond the folder (links, feeds, added files)."""
    from bot.stores.articles import article_of
    from bot.stores.store import POSTGRES_SCHEMES, open_store, sqlite_path

    url = settings.database_url
    if not url.startswith(POSTGRES_SCHEMES) and not sqlite_path(url).is_file():
        return articles
    store = open_store(url)
    try:
        stored = {a.id: a for a in store.articles.active_articles()}
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


def answer_json(found: Answer) -> dict:
    if found.latest is not None:
        return {"query": found.query, "latest": [citation_json(c) for c in found.latest]}
    return {
        "query": found.query,
        "hits": [
            {
                "rank": rank,
                "score": round(hit.score, 4),
                **citation_json(hit.citation),
                "passage": hit.passage.text,
                "snippet": hit.snippet.marked("**", "**"),
            }
            for rank, hit in enumerate(found.hits, start=1)
        ],
    }


def citation_json(citation: Citation) -> dict:
    return {
        "article_id": citation.article_id,
        "title": citation.title,
        "date": citation.date.isoformat() if citation.date else None,
        "source": citation.source,
        "url": citation.url,
        "outlet": citation.outlet,
    }


def render_answer_text(found: Answer, color: bool = False) -> str:
    if found.latest is not None:
        return render_latest_text(found.query, found.latest)
    if not found.hits:
        if found.off_subject:
            return f'Nothing found for "{found.query}": {found.off_subject}. This desk follows only its subject\'s news.'
        return f'Nothing found for "{found.query}". Try other words, a name, or fewer words.'
    before, after = (BOLD, RESET) if color else ("**", "**")
    lines = [f'Results for "{found.query}":', ""]
    for rank, hit in enumerate(found.hits, start=1):
        lines.append(f"{rank}. {hit.snippet.marked(before, after)}")
        lines.append(f"   [{rank}] {citation_line(hit.citation)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def render_latest_text(query: str, citations: list[Citation]) -> str:
    if not citations:
        return f'No article matches "{query}" yet.' if query else "No article yet."
    heading = f'Latest on "{query}", newest first:' if query else "Latest news, newest first:"
    lines = [heading, ""]
    lines += [f"{rank}. {citation_line(c)}" for rank, c in enumerate(citations, start=1)]
    return "\n".join(lines)


def citation_line(citation: Citation) -> str:
    """Title (date), outlet: link; or title (date), file for a folder article."""
    date = citation.date.isoformat() if citation.date else "undated"
    if citation.date_source == "first_seen":
        date = f"first seen {date}"
    if citation.url:
        return f"{citation.title} ({date}), {citation.outlet or citation.source}: {citation.url}"
    return f"{citation.title} ({date}), {citation.source}"


def run_summarize(args: argparse.Namespace) -> int:
    from search import Analyzer, Summarizer, load_article

    article = load_article(args.file)
    if article is None:
        print(f"Cannot summarise {args.file}: see the message above.", file=sys.stderr)
        return 2
    summarizer = Summarizer(Analyzer())  # the analyzer a SearchIndex makes: no index is needed here
    summary = summarizer.summarize(article)
    if args.json:
        payload = {
            "title": article.title,
            "date": article.date.isoformat() if article.date else None,
            "language": article.language,
            "summary": summary,
            "one_sentence": summarizer.headline_summary(article),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        date = article.date.isoformat() if article.date else "undated"
        print(f"{article.title} ({date}, {article.language})\n\n{summary}")
    return 0
