"""The whole served app on PostgreSQL (DATABASE_URL=postgresql://...): a new file is announced once and
answers questions, and a restart rebuilds the index from the database without announcing again."""

from __future__ import annotations

import psycopg

from tests.e2e.test_serving_news import CHANNEL, NEWS, announcements, command_until_found
from tests.polling import wait_until
from tests.served import served_app


def test_the_app_serves_and_announces_from_postgres(fake_slack, articles_dir, postgres_url):
    with served_app(fake_slack, articles_dir, postgres_url, notify_channel=CHANNEL) as app:
        (articles_dir / "new.txt").write_text(NEWS, encoding="utf-8")
        command_until_found(app, "General Catalyst", "Mistral AI raises 600 million euros")
        wait_until(lambda: announcements(fake_slack), timeout=20)
    with psycopg.connect(postgres_url) as db:
        assert db.execute(
            "SELECT state, COUNT(*) FROM announcements GROUP BY state ORDER BY state"
        ).fetchall() == [
            ("posted", 1),
            ("skipped", 5),
        ]
    with served_app(fake_slack, articles_dir, postgres_url, notify_channel=CHANNEL) as app:
        answer = app.command("General Catalyst", name="after-restart")
        assert "Mistral AI raises 600 million euros" in str(answer["blocks"])
    assert len(announcements(fake_slack)) == 1
