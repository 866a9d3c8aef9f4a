"""The HTTP edge under hostile and heavy load (issue 31), against a real `lineage serve` on SQLite:

    python -m bench.edge                 # all three runs
    python -m bench.edge --idle 1500 --stalled 100 --clients 200

1. `--idle` connections opened and left silent, with ingest latency measured beside them, and
   how many of them the server closed by itself;
2. `--stalled` uploads that stop at 4 MiB of a declared 5 MiB body, and the API's resident
   memory before, while they are held, and after;
3. `--clients` connections posting single events at once: acknowledged requests' p50 and p99,
   and the 503s that load shedding answered early.

Everything is on loopback, every loop is bounded, and every figure is measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from bench.load import Connection
from bench.run import percentile, process_tree, served
from bench.workload import Workload

MIB = 1024 * 1024


def rss_mb(pid: int) -> float:
    """The resident memory of the server and its children now."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


async def ingest_latencies(base: str, clients: int, per_client: int, seed: int) -> tuple[list[float], list[float], int]:
    """`clients` connections, each posting `per_client` single events one after another:
    latencies (ms) of acknowledged requests, of 503s, and the count of other answers."""
    bodies = [orjson.dumps(e) for e in Workload(clients * per_client, seed=seed).events()]
    acked: list[float] = []
    refused: list[float] = []
    other = 0

    async def client(i: int) -> None:
        nonlocal other
        http = await Connection(base).__aenter__()
        for body in bodies[i::clients]:
            started = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(http.post("/api/v1/lineage", body), 60)
            except (ConnectionError, IndexError, ValueError, asyncio.IncompleteReadError):
                status = 0  # the server closed the connection (it does after a 503 of its limit)
            took = (time.perf_counter() - started) * 1000
            if status in (200, 201):
                acked.append(took)
            elif status == 503:
                refused.append(took)
            else:
                other += 1
            if status not in (200, 201):
                await http.__aexit__()
                http = await Connection(base).__aenter__()
        await http.__aexit__()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return acked, refused, other


async def idle_run(base: str, pid: int, idle: int) -> None:
    host, port = address(base)
    alone, _, _ = await ingest_latencies(base, 8, 50, seed=10)
    print(f"idle: the same 400 ingest requests with no idle connection: p50 {statistics.median(alone):.1f} ms, "
          f"p99 {percentile(alone, 0.99):.1f} ms")
    socks = [await asyncio.open_connection(host, port) for _ in range(idle)]
    opened = time.monotonic()
    before = rss_mb(pid)
    acked, refused, other = await ingest_latencies(base, 8, 50, seed=11)
    beside = time.monotonic() - opened
    await asyncio.sleep(max(0.0, 7 - (time.monotonic() - opened)))  # past the 5 s keep-alive timeout

    async def closed(reader: asyncio.StreamReader) -> bool:
        try:
            return await asyncio.wait_for(reader.read(1), 0.5) == b""
        except (TimeoutError, ConnectionError):
            return False

    shut = sum(await asyncio.gather(*(closed(r) for r, _ in socks)))
    for _, writer in socks:
        writer.close()
    print(f"idle: {idle} silent connections; 400 ingest requests beside them (8 clients, {beside:.1f} s): "
          f"{len(acked)} acknowledged, p50 {statistics.median(acked) if acked else 0:.1f} ms, "
          f"p99 {percentile(acked, 0.99) if acked else 0:.1f} ms; {len(refused)} 503, {other} other; "
          f"closed by the server after 7 s: {shut} of {idle}; RSS {before:.0f} MB")


async def stalled_run(base: str, pid: int, stalled: int) -> None:
    host, port = address(base)
    before = rss_mb(pid)
    conns = []
    for _ in range(stalled):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST /api/v1/lineage/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % (5 * MIB))
        writer.write(b"[" + b" " * (4 * MIB - 1))
        conns.append((reader, writer))
    await asyncio.gather(*(w.drain() for _, w in conns), return_exceptions=True)
    await asyncio.sleep(1.0)
    held = rss_mb(pid)

    async def status(reader: asyncio.StreamReader) -> str:
        try:
            line = await asyncio.wait_for(reader.readline(), 15)
        except TimeoutError:
            return "no answer"
        except ConnectionError:
            return "reset"  # closed with the client's bytes unread: the kernel resets it
        return line.split(b" ")[1].decode() if line.startswith(b"HTTP/1.1") else "closed"

    statuses = await asyncio.gather(*(status(r) for r, _ in conns))
    for _, writer in conns:
        writer.close()
    await asyncio.sleep(1.0)
    after = rss_mb(pid)
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"stalled: {stalled} uploads stopped at 4 MiB of 5 MiB: RSS {before:.0f} MB before, {held:.0f} MB while held, "
          f"{after:.0f} MB after; answers {counts}")


async def clients_run(base: str, clients: int) -> None:
    started = time.perf_counter()
    acked, refused, other = await ingest_latencies(base, clients, 20, seed=12)
    elapsed = time.perf_counter() - started
    print(f"load: {clients} connections x 20 single events in {elapsed:.1f} s: {len(acked)} acknowledged, "
          f"p50 {statistics.median(acked):.0f} ms, p99 {percentile(acked, 0.99):.0f} ms; "
          f"{len(refused)} shed with 503 (p99 {percentile(refused, 0.99) if refused else 0:.0f} ms), {other} other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=1500)
    parser.add_argument("--stalled", type=int, default=100)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lineage-edge-") as scratch:
        for run in ("idle", "stalled", "clients"):
            # A server of its own for each run, so that one's memory and queue do not blur the next.
            with served(f"sqlite:///{scratch}/{run}.db", 1) as (base, pid):
                if run == "idle":
                    asyncio.run(idle_run(base, pid, args.idle))
                elif run == "stalled":
                    asyncio.run(stalled_run(base, pid, args.stalled))
                else:
                    asyncio.run(clients_run(base, args.clients))


if __name__ == "__main__":
    main()
