"""Run a real Neo4j 5.26 Community server from Maven Central jars, without Docker."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from maven_jars import fetch, pinned_version  # ops/, beside this file

REPO_ROOT = Path(__file__).resolve().parent.parent
POM_PATH = REPO_ROOT / "ops" / "neo4j" / "pom.xml"
DEFAULT_CACHE_DIR = REPO_ROOT / ".neo4j"
DEFAULT_RUN_HOME = DEFAULT_CACHE_DIR / "run"
DEFAULT_PORT = 7687
HOST = "127.0.0.1"

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
# The server prints exactly this once every database is online.
READY_LINE = "INFO  Started."
CONSOLE_LOG = "neo4j-console.log"
PID_FILE = "neo4j.pid"
PORT_FILE = "neo4j.port"

# What the official `bin/neo4j` script adds on Java 17. Without the
# --add-opens Neo4j cannot reach file descriptors / direct buffers and logs
# "Incorrect file descriptor" warnings and falls back to slower page-cache code.
JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    # As Neo4j's own neo4j.conf ships: the JIT may fold final fields into the code it compiles.
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


NEO4J_VERSION = pinned_version(POM_PATH, "neo4j.version")


def free_port(host: str = HOST) -> int:
    """Return a TCP port that was free a moment ago (the usual bind-to-0 trick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def install(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Copy the pinned Neo4j jars into cache_dir/lib via Maven; no-op when already there."""
    return fetch(POM_PATH, "neo4j.lib.dir", cache_dir, NEO4J_VERSION, f"neo4j-{NEO4J_VERSION}.jar", "Neo4j")


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java not found (Neo4j 5.26 needs Java 17 or 21)")
    return java


def server_command(
    lib: Path,
    home: Path,
    port: int,
    *,
    heap: str = "1g",
    pagecache: str = "256m",
    extra_config: Mapping[str, str] | None = None,
) -> list[str]:
    """Build the java command line that runs a console-mode community server."""
    config: dict[str, str] = {
        # Loopback only; advertising 127.0.0.1 (not the default "localhost",
        # which may resolve to ::1) keeps neo4j:// routing tables reachable.
        "server.default_listen_address": HOST,
        "server.default_advertised_address": HOST,
        "server.bolt.listen_address": f"{HOST}:{port}",
        # HTTP would need a second port per server; Bolt is all we use.
        "server.http.enabled": "false",
        "server.https.enabled": "false",
        "dbms.security.auth_enabled": "false",
        "server.memory.pagecache.size": pagecache,
        # No network here besides package registries; don't phone home.
        "dbms.usage_report.enabled": "false",
        # Bolt shutdown otherwise idles 5s + 5s (netty quiet period and worker
        # pool wait) after the databases are already closed.
        "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
        "internal.server.bolt.thread_pool_shutdown_wait_time": "1s",
    }
    config.update(extra_config or {})
    cmd = [_java(), f"-Xmx{heap}", *JVM_FLAGS, "-cp", f"{lib}/*", MAIN_CLASS,
           f"--home-dir={home}", "--console-mode"]
    for key, value in config.items():
        cmd += ["-c", f"{key}={value}"]
    return cmd


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


class Neo4jServer:
    """Handle on one running server: its URI, pid, and how to stop or kill it."""

    def __init__(self, home: Path, port: int, pid: int, process: subprocess.Popen[bytes] | None = None) -> None:
        self.home = home
        self.port = port
        self.pid = pid
        self.process = process
        self.log_path = home / CONSOLE_LOG

    @property
    def uri(self) -> str:
        # neo4j:// works against a single community server with the 6.x Python
        # driver (the routing table lists just this server), as long as the
        # advertised address is reachable, see server_command().
        return f"neo4j://{HOST}:{self.port}"

    @property
    def bolt_uri(self) -> str:
        """Direct (non-routing) URI; also works, and skips the routing-table round trip."""
        return f"bolt://{HOST}:{self.port}"

    def is_running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return _pid_alive(self.pid)

    def _signal(self, sig: signal.Signals) -> None:
        try:
            # The server is the leader of its own process group (start_new_session).
            os.killpg(self.pid, sig)
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
        """SIGTERM (clean shutdown, checkpoints the stores); SIGKILL if it overstays timeout."""
        _STARTED.discard(self)
        if not self.is_running():
            self._wait(0)
            return
        self._signal(signal.SIGTERM)
        if not self._wait(timeout):
            self.kill()

    def kill(self) -> None:
        """SIGKILL with no shutdown, to simulate a crash; the next start runs recovery."""
        _STARTED.discard(self)
        if self.is_running():
            self._signal(signal.SIGKILL)
        self._wait(30)

    def __enter__(self) -> Neo4jServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Neo4jServer(uri={self.uri!r}, pid={self.pid}, home={str(self.home)!r})"


# Servers started from this interpreter; stopped at exit so a test run that
# forgets one doesn't leave a JVM behind (its own session ignores our Ctrl-C).
_STARTED: set[Neo4jServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_STARTED):
        server.stop(timeout=30)


def start(
    home: Path,
    port: int,
    *,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    timeout: float = 180,
    heap: str = "1g",
    pagecache: str = "256m",
    extra_config: Mapping[str, str] | None = None,
    stop_at_exit: bool = True,
) -> Neo4jServer:
    """Start a server with data and logs under home; return once Bolt accepts connections."""
    lib = install(cache_dir)
    # Refuse a busy port up front: otherwise the readiness probe could be
    # answered by some other server while ours fails to bind.
    if _port_open(port):
        raise RuntimeError(f"port {port} on {HOST} is already in use")
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / CONSOLE_LOG
    cmd = server_command(lib, home, port, heap=heap, pagecache=pagecache, extra_config=extra_config)
    # Append so logs of an earlier (e.g. killed) run in the same home survive;
    # readiness is judged only on what this run writes after `offset`.
    with open(log_path, "ab") as log:
        offset = log.tell()
        log.write(f"--- neo4j_local: {' '.join(cmd)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            cmd, cwd=home, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Neo4jServer(home, port, process.pid, process)
    if stop_at_exit:
        _STARTED.add(server)
    deadline = time.monotonic() + timeout
    started = False
    while True:
        if process.poll() is not None:
            _STARTED.discard(server)
            raise RuntimeError(
                f"Neo4j exited with code {process.returncode} during startup "
                f"(see {log_path} and {home / 'logs' / 'debug.log'}):\n{_tail(log_path)}"
            )
        if not started:
            with open(log_path, "rb") as fh:
                fh.seek(offset)
                started = READY_LINE in fh.read().decode(errors="replace")
        if started and _port_open(port):
            return server
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(
                f"Neo4j not ready on port {port} after {timeout:.0f}s (killed it; "
                f"see {log_path}):\n{_tail(log_path)}"
            )
        time.sleep(0.1)


def attach(home: Path) -> Neo4jServer | None:
    """Handle on a server the CLI started in home, or None if none is running there."""
    try:
        pid = int((home / PID_FILE).read_text().strip())
        port = int((home / PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if not _pid_alive(pid) or not _is_our_server(pid, home):
        return None
    return Neo4jServer(home.resolve(), port, pid)


def _is_our_server(pid: int, home: Path) -> bool:
    # Guard against a recycled pid: the process must be a Neo4j for this home.
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MAIN_CLASS.encode() in args and f"--home-dir={home.resolve()}".encode() in args


def _clear_pid_files(home: Path) -> None:
    for name in (PID_FILE, PORT_FILE):
        (home / name).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "install"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="bolt port (start)")
    parser.add_argument("--home", type=Path, default=DEFAULT_RUN_HOME, help="data/log/pid directory")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where the jars go")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for start/stop")
    args = parser.parse_args(argv)
    home: Path = args.home.resolve()

    if args.command == "install":
        t0 = time.monotonic()
        lib = install(args.cache_dir)
        print(f"Neo4j {NEO4J_VERSION} jars in {lib} ({time.monotonic() - t0:.1f}s)")
        return 0

    running = attach(home)
    if args.command == "status":
        if running is None:
            print(f"not running (home {home})")
            return 3  # LSB "program is not running"
        print(f"running pid={running.pid} uri={running.uri} home={home}")
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

    # start: leave the server running in the background after we exit.
    if running is not None:
        print(f"already running pid={running.pid}; {running.uri}", file=sys.stderr)
        print(running.uri)
        return 0
    try:
        server = start(home, args.port, cache_dir=args.cache_dir, timeout=args.timeout, stop_at_exit=False)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    (home / PID_FILE).write_text(f"{server.pid}\n")
    (home / PORT_FILE).write_text(f"{server.port}\n")
    # Forget the Popen so interpreter exit neither waits for nor warns about it.
    server.process = None
    print(server.uri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
