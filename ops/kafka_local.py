"""Run a real Apache Kafka 4.x broker (KRaft mode, one node) from Maven Central jars, without Docker."""

from __future__ import annotations

import argparse
import atexit
import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from maven_jars import fetch, pinned_version  # ops/, beside this file

# The launcher helpers that do not depend on what server runs (ports, pids, java, log tails).
from neo4j_local import _java, _pid_alive, _port_open, _tail, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
POM_PATH = REPO_ROOT / "ops" / "kafka" / "pom.xml"
LOG_CONFIG = REPO_ROOT / "ops" / "kafka" / "log4j2.properties"
DEFAULT_CACHE_DIR = REPO_ROOT / ".kafka"
DEFAULT_RUN_HOME = DEFAULT_CACHE_DIR / "run"
DEFAULT_PORT = 9092
HOST = "127.0.0.1"

MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
# KafkaRaftServer logs this once the broker and its controller are up and the listener is bound.
READY_LINE = "Kafka Server started"
CONSOLE_LOG = "kafka-console.log"
CONFIG_FILE = "server.properties"
PID_FILE = "kafka.pid"
PORT_FILE = "kafka.port"

JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
    # Kafka's own scripts set this too: the broker needs no JMX port and must not open one.
    "-Dcom.sun.management.jmxremote=false",
)


KAFKA_VERSION = pinned_version(POM_PATH, "kafka.version")


def install(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Copy the pinned Kafka jars into cache_dir/lib via Maven (~/.m2 caches them); no-op when there."""
    return fetch(POM_PATH, "kafka.lib.dir", cache_dir, KAFKA_VERSION, f"kafka_2.13-{KAFKA_VERSION}.jar", "Kafka")


def server_config(home: Path, port: int, controller_port: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """One node that is both broker and KRaft controller, listening on loopback only."""
    config = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        # 127.0.0.1 rather than "localhost", which may resolve to ::1 where nothing listens.
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(home / "data"),
        "num.partitions": "1",
        # One node: the internal topics cannot have more replicas than that.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # A consumer group's first rebalance waits 3 s by default for more members; tests and a
        # single machine gain nothing from it.
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
    }
    config.update(extra or {})
    return config


def _cluster_id() -> str:
    # What `kafka-storage random-uuid` prints: a UUID in URL-safe base64 without padding.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def format_storage(lib: Path, home: Path, config_path: Path) -> None:
    """Format the KRaft metadata and log directory once; a home already formatted keeps its data."""
    if (home / "data" / "meta.properties").is_file():
        return
    cmd = [_java(), "-Xmx256m", f"-Dlog4j2.configurationFile={LOG_CONFIG}", "-cp", f"{lib}/*", STORAGE_TOOL,
           "format", "-t", _cluster_id(), "-c", str(config_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"formatting Kafka storage failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")


class KafkaServer:
    """Handle on one running broker: its bootstrap address, pid, and how to stop or kill it."""

    def __init__(self, home: Path, port: int, pid: int, process: subprocess.Popen[bytes] | None = None) -> None:
        self.home = home
        self.port = port
        self.pid = pid
        self.process = process
        self.log_path = home / CONSOLE_LOG

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def is_running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return _pid_alive(self.pid)

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.pid, sig)  # the broker leads its own process group (start_new_session)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(self.pid, sig)

    def _wait(self, timeout: float) -> bool:
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while _pid_alive(self.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM (a controlled shutdown that flushes the logs); SIGKILL if it overstays timeout."""
        _STARTED.discard(self)
        if not self.is_running():
            self._wait(0)
            return
        self._signal(signal.SIGTERM)
        if not self._wait(timeout):
            self.kill()

    def kill(self) -> None:
        """SIGKILL with no shutdown, to simulate a crash; the next start recovers the logs."""
        _STARTED.discard(self)
        if self.is_running():
            self._signal(signal.SIGKILL)
        self._wait(30)

    def __enter__(self) -> KafkaServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"KafkaServer(bootstrap={self.bootstrap!r}, pid={self.pid}, home={str(self.home)!r})"


# Brokers started from this interpreter, stopped at exit so that no JVM outlives a test run.
_STARTED: set[KafkaServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_STARTED):
        server.stop(timeout=30)


def start(
    home: Path,
    port: int,
    *,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    timeout: float = 120,
    heap: str = "512m",
    extra_config: Mapping[str, str] | None = None,
    stop_at_exit: bool = True,
) -> KafkaServer:
    """Start a broker with data and logs under home (formatted on first use); return once it is ready.
    Starting again on the same home and port brings back the same topics, messages and offsets."""
    lib = install(cache_dir)
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    if _port_open(port):
        raise RuntimeError(f"port {port} on {HOST} is already in use")
    # The controller's port is kept in the home, so that a restart finds the same quorum.
    controller_file = home / "controller.port"
    if controller_file.is_file():
        controller_port = int(controller_file.read_text())
    else:
        controller_port = free_port()
        controller_file.write_text(f"{controller_port}\n")
    config_path = home / CONFIG_FILE
    config = server_config(home, port, controller_port, extra_config)
    config_path.write_text("".join(f"{k}={v}\n" for k, v in config.items()))
    format_storage(lib, home, config_path)
    cmd = [_java(), f"-Xmx{heap}", f"-Xms{heap}", *JVM_FLAGS, f"-Dlog4j2.configurationFile={LOG_CONFIG}",
           f"-Dkafka.logs.dir={home / 'logs'}", "-cp", f"{lib}/*", MAIN_CLASS, str(config_path)]
    log_path = home / CONSOLE_LOG
    # Append, so logs of an earlier (perhaps killed) run survive; readiness reads only this run's.
    with open(log_path, "ab") as log:
        offset = log.tell()
        log.write(f"--- kafka_local: {' '.join(cmd)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            cmd, cwd=home, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = KafkaServer(home, port, process.pid, process)
    if stop_at_exit:
        _STARTED.add(server)
    deadline = time.monotonic() + timeout
    started = False
    while True:
        if process.poll() is not None:
            _STARTED.discard(server)
            raise RuntimeError(f"Kafka exited with code {process.returncode} during startup:\n{_tail(log_path)}")
        if not started:
            with open(log_path, "rb") as fh:
                fh.seek(offset)
                started = READY_LINE in fh.read().decode(errors="replace")
        if started and _port_open(port):
            return server
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"Kafka not ready on port {port} after {timeout:.0f}s (killed it):\n{_tail(log_path)}")
        time.sleep(0.1)


def attach(home: Path) -> KafkaServer | None:
    """Handle on a broker the CLI started in home, or None if none is running there."""
    try:
        pid = int((home / PID_FILE).read_text().strip())
        port = int((home / PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if not _pid_alive(pid) or not _is_our_server(pid, home):
        return None
    return KafkaServer(home.resolve(), port, pid)


def _is_our_server(pid: int, home: Path) -> bool:
    # Guard against a recycled pid: the process must be a broker of this home's config.
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MAIN_CLASS.encode() in args and str(home.resolve() / CONFIG_FILE).encode() in args


def _clear_pid_files(home: Path) -> None:
    for name in (PID_FILE, PORT_FILE):
        (home / name).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "install"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="client port (start)")
    parser.add_argument("--home", type=Path, default=DEFAULT_RUN_HOME, help="data/log/pid directory")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where the jars go")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for start/stop")
    args = parser.parse_args(argv)
    home: Path = args.home.resolve()

    if args.command == "install":
        t0 = time.monotonic()
        lib = install(args.cache_dir)
        print(f"Kafka {KAFKA_VERSION} jars in {lib} ({time.monotonic() - t0:.1f}s)")
        return 0

    running = attach(home)
    if args.command == "status":
        if running is None:
            print(f"not running (home {home})")
            return 3  # LSB "program is not running"
        print(f"running pid={running.pid} bootstrap={running.bootstrap} home={home}")
        return 0

    if args.command == "stop":
        if running is None:
            print(f"not running (home {home})")
            _clear_pid_files(home)
            return 0
        running.stop(timeout=args.timeout)
        _clear_pid_files(home)
        print(f"stopped pid={running.pid}")
        return 0

    if running is not None:
        print(f"already running pid={running.pid}; {running.bootstrap}", file=sys.stderr)
        print(running.bootstrap)
        return 0
    try:
        server = start(home, args.port, cache_dir=args.cache_dir, timeout=args.timeout, stop_at_exit=False)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    (home / PID_FILE).write_text(f"{server.pid}\n")
    (home / PORT_FILE).write_text(f"{server.port}\n")
    server.process = None  # interpreter exit neither waits for nor warns about the broker
    print(server.bootstrap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
