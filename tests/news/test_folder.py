import io
import logging
import os

import pytest

from bot.cli.sources import run_ingest
from bot.news.folder import Ingestor, start_ingest
from bot.settings import load_settings
from bot.stores.store import open_sqlite
from search import SearchIndex, parse_article
from search.loader import is_article_name

NEWS = "Mistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."
OTHER = (
    "Mistral AI and Nvidia\n\nMistral AI released a 12 billion parameter model built with Nvidia on Thursday."
)


@pytest.fixture
def store(tmp_path):
    store = open_sqlite(tmp_path / "bot.db")
    yield store
    store.close()


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


@pytest.fixture
def ingestor(store, folder):
    added: list[str] = []
    ingestor = Ingestor(store, SearchIndex(), folder, on_added=added.append)
    ingestor.added = added
    return ingestor


def test_first_start_records_the_folder_without_announcing_later_files_are_announced(store, folder, ingestor):
    (folder / "a.txt").write_text(NEWS, "utf-8")
    reports = start_ingest(store, ingestor.index, ingestor)
    assert [r.outcome for r in reports] == ["added"]
    assert store.announcements.counts() == {"skipped": 1}
    (folder / "b.txt").write_text(OTHER, "utf-8")
    start_ingest(store, ingestor.index, ingestor)
    assert store.announcements.counts() == {"skipped": 1, "pending": 1}
    assert ingestor.index.article_count == 2
    assert len(ingestor.added) == 2


def test_a_deleted_file_leaves_index_and_store(store, folder, ingestor):
    (folder / "a.txt").write_text(NEWS, "utf-8")
    report = ingestor.ingest(folder / "a.txt")
    (folder / "a.txt").unlink()
    ingestor.scan()
    assert report.article_id not in ingestor.index
    assert store.articles.get(report.article_id).removed_at is not None


def test_same_content_under_another_name_is_not_a_new_article(store, folder, ingestor):
    (folder / "a.txt").write_text(NEWS, "utf-8")
    (folder / "copy.md").write_text(NEWS, "utf-8")
    assert [r.outcome for r in ingestor.scan()] == ["added", "known"]
    assert ingestor.index.article_count == 1


def test_a_changed_file_replaces_its_article_in_the_index(store, folder, ingestor):
    store.articles.mark_baseline_done()
    path = folder / "a.txt"
    path.write_text(NEWS, "utf-8")
    first = ingestor.ingest(path)
    path.write_text(NEWS.replace("40", "60"), "utf-8")
    os.utime(path, ns=(1, 1))
    second = ingestor.ingest(path)
    assert second.outcome == "updated"
    assert first.article_id not in ingestor.index and second.article_id in ingestor.index
    assert store.announcements.state(second.article_id) == "skipped"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 50, "binary"),
        ("huge.txt", None, "too large"),
    ],
)
def test_bad_files_are_skipped_with_one_log_line(store, folder, ingestor, caplog, name, content, reason):
    path = folder / name
    if content is None:
        with path.open("wb") as file:
            file.truncate(50 * 1024 * 1024)  # a sparse 50 MB file: nothing is read to refuse it
    else:
        path.write_bytes(content)
    with caplog.at_level(logging.INFO, logger="bot.news.folder"):
        report = ingestor.ingest(path)
        ingestor.ingest(path)
        ingestor.scan()
    assert report.outcome == "skipped" and reason in report.reason
    assert [r.getMessage() for r in caplog.records] == [f"Skipped {path}: {report.reason}"]
    assert ingestor.index.article_count == 0 and store.articles.active_articles() == []


def test_mis_encoded_text_is_read_as_windows_1252(store, folder, ingestor):
    (folder / "latin.txt").write_bytes(
        "Mistral AI lève 600 millions d'euros auprès de ses investisseurs.".encode("cp1252")
    )
    report = ingestor.ingest(folder / "latin.txt")
    assert report.outcome == "added"
    assert "lève" in ingestor.index.get(report.article_id).text


def test_a_symlink_out_of_the_folder_is_refused(tmp_path, folder, ingestor):
    outside = tmp_path / "secret.txt"
    outside.write_text(NEWS, "utf-8")
    (folder / "link.txt").symlink_to(outside)
    report = ingestor.ingest(folder / "link.txt")
    assert report.outcome == "skipped" and "outside" in report.reason


@pytest.mark.parametrize(
    "name", [".a.txt", ".a.txt.swp", "a.txt~", "~a.txt", "a.txt.part", "a.pdf", "#a.txt#"]
)
def test_temporary_hidden_and_other_files_are_not_candidates(name):
    assert not is_article_name(name)


def test_cli_ingest_records_without_copying_and_says_what_it_did(tmp_path, folder, store):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "news.txt").write_text(NEWS, "utf-8")
    (incoming / "same.txt").write_text(NEWS, "utf-8")
    (incoming / "empty.txt").write_bytes(b"")
    settings = load_settings(
        require_slack=False, articles_dir=str(folder), database_url=f"sqlite:///{tmp_path / 'bot.db'}"
    )
    store.articles.mark_baseline_done()
    out = io.StringIO()
    paths = [incoming / "news.txt", incoming / "same.txt", incoming / "empty.txt", incoming / "missing.txt"]
    status = run_ingest(settings, [str(path) for path in paths], out=out)
    assert out.getvalue().splitlines() == [
        "file:news.txt: added",
        "file:news.txt: already known",
        "empty.txt: skipped: empty file",
        "missing.txt: skipped: no such file",
    ]
    assert status == 1
    assert list(folder.iterdir()) == []  # recorded in the store, not copied into the watched folder
    assert store.announcements.counts() == {"pending": 1}


def test_a_folder_scan_never_removes_an_added_file(tmp_path, folder, store):
    (tmp_path / "news.txt").write_text(NEWS, "utf-8")
    settings = load_settings(
        require_slack=False, articles_dir=str(folder), database_url=f"sqlite:///{tmp_path / 'bot.db'}"
    )
    assert run_ingest(settings, [str(tmp_path / "news.txt")], out=io.StringIO()) == 0
    (tmp_path / "news.txt").unlink()
    Ingestor(store, SearchIndex(), folder).scan()
    [stored] = store.articles.active_articles()
    assert stored.source == "file:news.txt" and stored.origin == "file"


def test_cli_ingest_before_any_server_start_says_it_will_not_announce(tmp_path, folder, store):
    (tmp_path / "news.txt").write_text(NEWS, "utf-8")
    settings = load_settings(
        require_slack=False, articles_dir=str(folder), database_url=f"sqlite:///{tmp_path / 'bot.db'}"
    )
    out = io.StringIO()
    assert run_ingest(settings, [str(tmp_path / "news.txt")], out=out) == 0
    assert (
        out.getvalue()
        == "file:news.txt: added (not announced: the server has not started on this store yet)\n"
    )
    assert store.announcements.counts() == {"skipped": 1}


def test_cli_ingest_of_another_file_of_the_same_name_keeps_both(tmp_path, folder, store):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "news.txt").write_text(OTHER, "utf-8")
    (tmp_path / "news.txt").write_text(NEWS, "utf-8")
    settings = load_settings(
        require_slack=False, articles_dir=str(folder), database_url=f"sqlite:///{tmp_path / 'bot.db'}"
    )
    assert (
        run_ingest(
            settings, [str(tmp_path / "a" / "news.txt"), str(tmp_path / "news.txt")], out=io.StringIO()
        )
        == 0
    )
    sources = {a.source for a in store.articles.active_articles()}
    assert "file:news.txt" in sources and len(sources) == 2


def test_files_in_hidden_folders_are_refused_and_leave_the_index(store, folder, ingestor):
    (folder / ".Trash").mkdir()
    (folder / ".Trash" / "old.txt").write_text(NEWS, "utf-8")
    report = ingestor.ingest(folder / ".Trash" / "old.txt")
    assert (report.outcome, report.reason) == ("skipped", "in a hidden folder")
    # Recorded by a version that read hidden folders: the next scan takes it out.
    store.articles.record(parse_article(OTHER, ".Trash/older.txt"), announce=False)
    (folder / ".Trash" / "older.txt").write_text(OTHER, "utf-8")
    assert ingestor.scan() == []
    assert store.articles.active_sources() == []


def test_an_articles_folder_inside_a_hidden_folder_is_ingested(store, tmp_path):
    folder = tmp_path / ".local" / "articles"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text(NEWS, "utf-8")
    ingestor = Ingestor(store, SearchIndex(), folder)
    try:
        assert [r.outcome for r in ingestor.scan()] == ["added"]
    finally:
        ingestor.close()
