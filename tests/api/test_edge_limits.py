"""The HTTP edge of a real `lineage serve` (issue 31, point 1), over loopback sockets with
bounded loops: idle and half-sent heads are closed after their timeouts, an oversized head is
refused with 431 without the server holding it, stalled bodies are bounded in the bytes held
and refused at their deadline, and connections past the concurrency limit get 503."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests import scenario as s
from tests.server import running

MIB = 1024 * 1024
LIMITS = {
    "LINEAGE_KEEP_ALIVE_SECONDS": "1",
    "LINEAGE_HEADER_READ_SECONDS": "1",
    "LINEAGE_BODY_READ_SECONDS": "2",
    "LINEAGE_MAX_PENDING_BODY_BYTES": str(3 * MIB),
    "LINEAGE_MAX_CONNECTIONS": "40",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path_factory.mktemp('edge') / 'lineage.db'}", **LIMITS) as url:
        yield url


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def connect(url: str) -> socket.socket:
    sock = socket.create_connection(address(url), timeout=10)
    return sock


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed `sock` within `seconds`, and what it sent before."""
    sock.settimeout(0.2)
    got, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, got
        if not chunk:
            return True, got
        got += chunk
    return False, got


def test_idle_and_half_sent_heads_are_closed_after_their_timeouts(served: str) -> None:
    idle, half = connect(served), connect(served)
    half.sendall(b"POST /api/v1/lineage HTTP/1.1\r\nHost: x\r\nContent-Type: applica")
    started = time.monotonic()
    try:
        for sock in (idle, half):
            closed, said = closed_within(sock, 6)
            assert closed and said == b"", said
        assert time.monotonic() - started < 4
    finally:
        idle.close()
        half.close()


def test_a_kept_alive_connection_is_closed_after_the_keep_alive_timeout(served: str) -> None:
    sock = connect(served)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        closed, said = closed_within(sock, 5)
        assert closed and said.startswith(b"HTTP/1.1 200"), said
    finally:
        sock.close()


def test_an_oversized_head_is_refused_with_431_and_not_held(served: str) -> None:
    sock = connect(served)
    sent = 0
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        line = b"a" * MIB
        sock.setblocking(False)
        try:
            while sent < 50 * MIB:  # the 50 MB header line of the report, until the server answers
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break
                except BlockingIOError:
                    pass
                try:
                    sent += sock.send(line)
                except BlockingIOError:
                    time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused part-way, as it should be
        sock.setblocking(True)
        closed, said = closed_within(sock, 5)
    finally:
        sock.close()
    assert said.startswith(b"HTTP/1.1 431"), said[:200]
    assert orjson.loads(said.split(b"\r\n\r\n", 1)[1])["error"] == "headers_too_large"
    assert closed and sent < 50 * MIB
    # The server still answers, and a normal head of some size passes.
    assert httpx.get(f"{served}/healthz", headers={"X-Fine": "b" * 8000}).status_code == 200


def test_many_header_lines_are_refused_with_431(served: str) -> None:
    sock = connect(served)
    try:
        lines = b"".join(b"X-Line-%d: v\r\n" % n for n in range(200_000))  # the report's 200,000 lines
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + lines)
        except (BrokenPipeError, ConnectionResetError):
            pass
        _, said = closed_within(sock, 5)
    finally:
        sock.close()
    assert said.startswith(b"HTTP/1.1 431"), said[:200]


def test_a_body_after_a_head_in_the_same_packets_is_not_mistaken_for_the_head(served: str) -> None:
    batch = orjson.dumps([s.event(f"edge#{n}", "COMPLETE", s.ts(1, n % 60)) for n in range(300)])
    assert len(batch) > 64 * 1024
    response = httpx.post(f"{served}/api/v1/lineage/batch", content=batch, headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["created"] == 300


def test_stalled_bodies_are_bounded_in_bytes_held_and_refused_at_their_deadline(served: str) -> None:
    """Eight uploads each stop at 1 MiB of a declared 4 MiB: the first three fit the 3 MiB budget
    and are refused 408 at the 2 s body deadline; the others are refused 503 at once."""
    socks = []
    try:
        for _ in range(8):
            sock = connect(served)
            sock.sendall(b"POST /api/v1/lineage/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % (4 * MIB))
            sock.sendall(b"[" + b" " * (MIB - 1))
            socks.append(sock)
            time.sleep(0.05)  # in order, so which ones fit is known
        answers = [closed_within(sock, 6)[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    statuses = [a.split(b" ", 2)[1].decode() if a.startswith(b"HTTP/1.1") else a[:40].decode(errors="replace") for a in answers]
    assert statuses.count("503") >= 5 and 1 <= statuses.count("408") <= 3, statuses
    assert set(statuses) <= {"503", "408"}, statuses
    assert all(b"retry-after" in a.lower() for a in answers if a.startswith(b"HTTP/1.1 503"))
    # The budget is free again afterwards: an ordinary body is accepted.
    assert httpx.post(f"{served}/api/v1/lineage", json=s.event("after#1", "COMPLETE", s.ts(2))).status_code == 201


def test_connections_past_the_limit_get_503(tmp_path: Path) -> None:
    with running(f"sqlite:///{tmp_path / 'limit.db'}", LINEAGE_MAX_CONNECTIONS="4", LINEAGE_KEEP_ALIVE_SECONDS="30") as url:
        held = [connect(url) for _ in range(4)]
        try:
            time.sleep(0.2)
            busy = httpx.get(f"{url}/healthz")
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
            assert busy.json()["error"] == "overloaded"
        finally:
            for sock in held:
                sock.close()
        deadline = time.monotonic() + 5
        while httpx.get(f"{url}/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the limit did not free up after the connections closed"
            time.sleep(0.1)
