"""The articles judged off-subject (bot/stores/types.py: `Judgements`), one row per URL or file.

A feed item or a link left out is recorded before anything else is done with it: the next poll,
another feed listing the same link, or another replica finds it here and does not fetch it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.stores.types import Database, Judged

_COLUMNS = "key, title, verdict, reason, origin, feed, kept, article_id, judged_at"


@dataclass(frozen=True)
class SqlJudgements:
    database: Database

    def record(self, judged: Judged) -> None:
        with self.database.transaction() as db:
            db.execute(
                f"INSERT INTO judgements ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET title = excluded.title, verdict = excluded.verdict,"
                " reason = excluded.reason, origin = excluded.origin, feed = excluded.feed,"
                " kept = excluded.kept, article_id = excluded.article_id, judged_at = excluded.judged_at",
                (
                    judged.key,
                    judged.title,
                    judged.verdict,
                    judged.reason,
                    judged.origin,
                    judged.feed,
                    int(judged.kept),
                    judged.article_id,
                    self.database.clock(),
                ),
            )

    def left_out(self, key: str) -> Judged | None:
        with self.database.reading() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM judgements WHERE key = ? AND kept = 0", (key,)
            ).fetchone()
        return _judged(row) if row else None

    def between(self, since: float, until: float) -> list[Judged]:
        with self.database.reading() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM judgements WHERE judged_at >= ? AND judged_at < ?"
                " ORDER BY judged_at, key",
                (since, until),
            ).fetchall()
        return [_judged(row) for row in rows]


def _judged(row) -> Judged:
    return Judged(
        key=row["key"],
        title=row["title"],
        verdict=row["verdict"],
        reason=row["reason"],
        origin=row["origin"],
        feed=row["feed"],
        kept=bool(row["kept"]),
        article_id=row["article_id"],
        judged_at=float(row["judged_at"]),
    )
