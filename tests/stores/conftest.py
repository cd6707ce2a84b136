"""Databases for the store tests: SQLite files, an in-memory fake, and a real PostgreSQL server.

PostgreSQL comes from TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test). Each test
gets its own schema (dropped afterwards), so parallel runs on one server never collide. Without the
variable, or with the server unreachable, those tests are skipped saying why, except under CI
(CI=true), where an unreachable server fails them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

import psycopg
import pytest

from bot.stores.store import Store, open_postgres, open_sqlite
from tests.fakes.store import MemoryDatabase, memory_store

BACKENDS = ("memory", "sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """TEST_DATABASE_URL once it answers; skip (fail under CI) when it does not."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run under CI")
        pytest.skip("PostgreSQL tests skipped: TEST_DATABASE_URL is not set (see README, PostgreSQL)")
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[0]
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and PostgreSQL at TEST_DATABASE_URL is unreachable: {reason}")
        pytest.skip(f"PostgreSQL tests skipped: TEST_DATABASE_URL is unreachable: {reason}")
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL on a fresh, empty schema of the test server, dropped after the test."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    yield with_search_path(postgres_server, schema)
    with psycopg.connect(postgres_server, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


def with_search_path(url: str, schema: str) -> str:
    """`url` with its connections' search_path set to `schema` (a libpq URI parameter)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-c search_path={schema}')}"


@dataclass
class Backend:
    """One database; `open` gives a store on it, as a new process would (several may be open)."""

    name: str
    open: Callable[..., Store]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Iterator[Backend]:
    opened: list[Store] = []

    def keep(store: Store) -> Store:
        opened.append(store)
        return store

    if request.param == "memory":
        database = MemoryDatabase()
        backend = Backend("memory", lambda clock=time.time: keep(memory_store(database, clock=clock)))
    elif request.param == "sqlite":
        path = tmp_path / "bot.db"
        backend = Backend("sqlite", lambda clock=time.time: keep(open_sqlite(path, clock=clock)))
    else:
        url = request.getfixturevalue("postgres_url")
        backend = Backend("postgresql", lambda clock=time.time: keep(open_postgres(url, clock=clock)))
    yield backend
    for store in opened:
        store.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()
