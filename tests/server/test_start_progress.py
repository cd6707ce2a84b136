"""A start says how far it is: each phase logged as it ends, and a first start's folder catch-up
counted in /healthz (articles done of total) and in a log line every few seconds."""

from __future__ import annotations

import itertools
import json
import logging
import re

from bot.news.folder import Ingestor
from bot.news.progress import PHASES, StartProgress
from bot.stores.store import open_sqlite
from search import SearchIndex
from tests.news.parsers import HOLD_SUFFIX, parse_held
from tests.polling import wait_until
from tests.served import http, served_app

PHASE_LINE = re.compile(r"Start phase (\w+): \d+\.\d\d s")


def index_health(app) -> dict:
    return json.loads(http("GET", f"{app.base_url}/healthz")[1])["parts"]["index"]


def test_a_first_start_shows_the_articles_done_of_total_and_logs_each_phase(
    fake_slack, articles_dir, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    third = sorted(articles_dir.glob("*.txt"))[2]
    hold = third.with_name(third.name + HOLD_SUFFIX)
    hold.touch()  # the start stops on the third file until the hold is gone
    database = f"sqlite:///{tmp_path / 's.db'}"
    with served_app(fake_slack, articles_dir, database, wait_ready=False, parse=parse_held) as app:
        wait_until(lambda: index_health(app).get("articles_done") == 2)
        starting = index_health(app)
        assert starting["status"] == "loading" and starting["phase"] == "folder"
        assert starting["articles_total"] == 5 and starting["articles"] == 2
        hold.unlink()
        wait_until(lambda: index_health(app)["status"] == "ok")
        assert index_health(app)["articles"] == 5 and "articles_done" not in index_health(app)
    phases = [m.group(1) for r in caplog.records if (m := PHASE_LINE.match(r.getMessage()))]
    assert phases == list(PHASES)


def test_the_folder_catch_up_is_logged_every_few_seconds(articles_dir, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.news.progress")
    seconds = itertools.count()  # a clock one second further at each look
    progress = StartProgress(clock=lambda: float(next(seconds)), progress_seconds=2.5)
    store = open_sqlite(tmp_path / "s.db")
    ingestor = Ingestor(store, SearchIndex(), articles_dir)
    try:
        ingestor.scan(progress)
    finally:
        ingestor.close()
        store.close()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Catching up")]
    assert lines and len(lines) < 5, "one line every 2.5 s, not one a file"
    assert all(
        re.fullmatch(r"Catching up with the articles folder: [1-4] of 5 files", line) for line in lines
    )
    assert (progress.files_done, progress.files_total) == (5, 5)
