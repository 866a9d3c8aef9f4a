"""Bearer tokens with scopes (issue 6), with tokens kept in both stores."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from lineage import auth
from lineage.auth import new_token
from lineage.cli.main import app as cli
from lineage.settings import Settings
from lineage.store.base import Store
from tests import scenario as s
from tests.cli.conftest import store_env  # noqa: F401  (fixture)

EVENT = s.event("etl#1", "COMPLETE", s.ts(1), outputs=[s.dataset("t", "v1")])


@pytest.fixture(autouse=True)
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "CACHE_SECONDS", 0.0)  # see revocations at once in tests


def tokens(store: Store) -> dict[str, str]:
    out = {}
    for name, scopes in (("pipeline", ["ingest"]), ("responder", ["read"]), ("ops", ["admin"])):
        secret, record = new_token(name, scopes, "2026-01-01T00:00:00.000000Z")
        store.put_token(record)
        out[name] = secret
    return out


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_without_tokens_the_loopback_service_is_open(store: Store, settings: Settings) -> None:
    with TestClient(create_app(settings, store=store)) as client:
        assert client.post("/api/v1/lineage", json=EVENT).status_code == 201


def test_tokens_and_scopes(store: Store, settings: Settings) -> None:
    secrets = tokens(store)
    with TestClient(create_app(settings, store=store)) as client:
        missing = client.post("/api/v1/lineage", json=EVENT)
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        assert client.post("/api/v1/lineage", json=EVENT, headers=bearer("lgt_wrong")).status_code == 401
        assert client.post("/api/v1/lineage", json=EVENT, headers=bearer(secrets["responder"])).status_code == 403
        assert store.event_count() == 0
        assert client.post("/api/v1/lineage", json=EVENT, headers=bearer(secrets["pipeline"])).status_code == 201
        assert client.get("/api/v1/search", params={"q": "t"}, headers=bearer(secrets["pipeline"])).status_code == 403
        assert client.get("/api/v1/search", params={"q": "t"}, headers=bearer(secrets["responder"])).status_code == 200
        assert client.get("/api/v1/events", headers=bearer(secrets["ops"])).status_code == 200  # admin implies read
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
        store.revoke_token("pipeline", "2026-01-02T00:00:00.000000Z")
        assert client.post("/api/v1/lineage", json=EVENT, headers=bearer(secrets["pipeline"])).status_code == 401


def test_tokens_are_stored_hashed(store: Store) -> None:
    secrets = tokens(store)
    listed = store.tokens()
    assert [t.name for t in listed] == ["ops", "pipeline", "responder"]
    assert all(secret not in repr(listed) for secret in secrets.values())
    assert store.token(auth.hash_token(secrets["ops"])).scopes == ("admin",)


def test_refuses_to_listen_beyond_loopback_without_auth(store: Store, settings: Settings) -> None:
    exposed = settings.model_copy(update={"host": "0.0.0.0"})
    with pytest.raises(RuntimeError, match="refusing to listen"):
        with TestClient(create_app(exposed, store=store)):
            pass
    with TestClient(create_app(exposed.model_copy(update={"allow_insecure": True}), store=store)) as client:
        assert client.get("/healthz").status_code == 200
    tokens(store)
    with TestClient(create_app(exposed, store=store)) as client:
        assert client.get("/healthz").status_code == 200


def test_token_cli(store_env: Store) -> None:  # noqa: F811
    runner = CliRunner()
    created = runner.invoke(cli, ["token", "create", "ci", "--scope", "ingest", "--scope", "read"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("lgt_") and store_env.token(auth.hash_token(secret)).scopes == ("ingest", "read")
    assert runner.invoke(cli, ["token", "create", "ci", "--scope", "read"]).exit_code == 1  # name taken
    assert runner.invoke(cli, ["token", "create", "x", "--scope", "root"]).exit_code == 1
    assert "ci" in runner.invoke(cli, ["token", "list"]).stdout
    assert runner.invoke(cli, ["token", "revoke", "ci"]).exit_code == 0
    assert runner.invoke(cli, ["token", "revoke", "ci"]).exit_code == 1
    assert store_env.tokens()[0].revoked_at is not None
