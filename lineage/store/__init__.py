"""Storage: one protocol (`base.Store`), two backends, picked by URL scheme in `open_store`."""

from __future__ import annotations

from lineage.settings import Settings
from lineage.store.base import Store


def open_store(settings: Settings) -> Store:
    """The backend named by `settings.store`: `sqlite:///path` or `neo4j://`/`bolt://` URLs."""
    url = settings.store
    if url.startswith("sqlite://"):
        from lineage.store.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite://").removeprefix("/") or "lineage.db")
    if url.split("://", 1)[0] in {"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}:
        from lineage.store.neo4j import Neo4jStore

        return Neo4jStore(
            url, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database, settings.neo4j_retry_seconds
        )
    raise ValueError(f"LINEAGE_STORE: unsupported store URL {url!r} (use sqlite:///path or neo4j://host:7687)")
