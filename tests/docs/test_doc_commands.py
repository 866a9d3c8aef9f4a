"""The commands shown in README.md and docs/*.md run as shown, so the documentation cannot rot.

The convention for fenced blocks (docs/development.md tells writers):
- ```sh: a script, run whole by `bash -e`; it must exit 0.
- ```console: `$ command` lines, run one after another in one shell (so `export` carries). Each
  must exit 0, or the code its trailing `# exits N` names; the lines shown after a command must
  appear in its output (standard output and error), in order, each whole; `...` stands for lines
  left out, and a line ending in ` ...` shows only how the printed line starts.
- ```sh check-only: commands that run until stopped, need Neo4j or Docker, or take minutes. They
  are only checked: the block parses (`bash -n`), a `lineage ...` command's subcommand and options
  exist (it answers `--help`), a `make TARGET` target exists (`make -n`). Only the commands that
  CHECK_ONLY lists may appear there.
- Any other tag (text, json, ...) is not run.

Each file gets a fresh SQLite store and a real `lineage serve` on a free port; in the commands,
http://127.0.0.1:5000 becomes that server's address, and LINEAGE_STORE names that store. The
commands run in a scratch folder that links the repository's files, so what they write stays there.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lineage.cli.main import app
from tests.server import running

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOC_PORT = "127.0.0.1:5000"
# Tables are drawn at this width both when the docs' output is made and when it is checked.
COLUMNS = "120"
BLOCK_TIMEOUT = 120

# The only commands a check-only block may hold (by their first words), and why each is not run.
CHECK_ONLY = {
    "make run": "starts the service on port 5000 and runs until stopped",
    "make install": "creates .venv, which the test already runs in",
    "make test": "the whole suite, about 20 minutes",
    "make demo": "starts its own service on port 5000",
    "make bench": "minutes to an hour, with Neo4j",
    "python -m bench.history": "minutes, with Neo4j (tests/bench/test_history.py runs a small one)",
    "make neo4j-start": "starts a Neo4j server",
    "make neo4j-stop": "stops that server",
    "make kafka-start": "starts a Kafka broker",
    "make kafka-stop": "stops that broker",
    "lineage consume": "needs Kafka and runs until stopped",
    "make web": "needs npm and its registry",
    "lineage serve": "runs until stopped",
    "docker compose": "needs Docker",
    "lineage import tests/corpus": "the OpenLineage corpus: a few seconds, and covered by tests/conformance",
}

FENCE = re.compile(r"^```(?P<info>[^`\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
EXIT_CODE = re.compile(r"#\s*exits (?P<code>\d+)\s*$")
ELLIPSIS = {"...", "…"}
MARKER = "@@doc-command-exit "
# The address left in commands of a file that shows no server address (nothing listens there).
NO_SERVER = "http://127.0.0.1:9"


@dataclass
class Block:
    """One fenced block: its tag, first line number and text."""

    tag: str
    line: int
    body: str


@dataclass
class ConsoleCommand:
    """A `$ command` of a console block, the exit code it should end with and the lines shown after it."""

    command: str
    exit_code: int = 0
    expected: list[str] = field(default_factory=list)


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [
        Block(" ".join(match["info"].split()), text.count("\n", 0, match.start()) + 1, match["body"])
        for match in FENCE.finditer(text)
    ]


def logical_lines(body: str) -> list[str]:
    """Lines with backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in body.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def console_commands(body: str) -> list[ConsoleCommand]:
    commands: list[ConsoleCommand] = []
    for line in logical_lines(body):
        if line.startswith("$ "):
            code = EXIT_CODE.search(line)
            commands.append(ConsoleCommand(line[2:], int(code["code"]) if code else 0))
        elif commands:
            commands[-1].expected.append(line)
    return commands


def shell_commands(body: str) -> list[list[str]]:
    """The commands of a script as words, without comments and blank lines."""
    return [words for line in logical_lines(body) if (words := shlex.split(line, comments=True))]


def normalize(line: str) -> str:
    return " ".join(line.split())


def missing_lines(expected: list[str], output: str) -> list[str]:
    """The shown lines that do not appear whole in the output in their order (`...` skips any)."""
    actual = [normalize(line) for line in output.splitlines()]
    at = 0
    missing = []
    for line in expected:
        want = normalize(line)
        if not want or want in ELLIPSIS:
            continue
        # A line that ends in an ellipsis shows only how the printed line starts (ids, hashes, times).
        prefix = next((want[: -len(mark)].rstrip() for mark in ELLIPSIS if want.endswith(" " + mark)), None)
        for index in range(at, len(actual)):
            if actual[index] == want or (prefix is not None and actual[index].startswith(prefix)):
                at = index + 1
                break
        else:
            missing.append(line)
    return missing


def runnable_docs() -> list[Path]:
    return [path for path in DOCS if any(block.tag in {"sh", "console", "sh check-only"} for block in blocks(path))]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder that links the repository's top-level files, so relative paths work and writes stay here."""
    work = tmp_path / "work"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {".git", ".venv", "data", "build"}:
            (work / entry.name).symlink_to(entry)
    # `.venv/bin/lineage` and `. .venv/bin/activate` in the docs: the environment running the tests.
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return work


def environment(store_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LINEAGE_", "OPENLINEAGE"))}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "LINEAGE_STORE": store_url,
        "LINEAGE_LOG_LEVEL": "warning",
        "COLUMNS": COLUMNS,
        "TERM": "dumb",
    }
    return env


def run(script: str, cwd: Path, env: dict[str, str], base_url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    script = script.replace(f"http://{DOC_PORT}", base_url).replace(DOC_PORT, base_url.removeprefix("http://"))
    return subprocess.run(
        ["bash", *flags, "-c", script],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        # What a command says on standard error is part of what the docs may show.
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BLOCK_TIMEOUT,
    )


def where(path: Path, block: Block) -> str:
    return f"{path.relative_to(ROOT)}:{block.line}"


def run_console(path: Path, block: Block, cwd: Path, env: dict[str, str], base_url: str) -> list[str]:
    """Run a console block's commands in one shell, then check each one's exit code and output."""
    commands = console_commands(block.body)
    # After each command a marker line with its exit code splits the output back into each command's.
    script = "".join(f"{command.command}\nprintf '\\n{MARKER}%d\\n' $?\n" for command in commands)
    result = run(script, cwd, env, base_url)
    outputs: list[tuple[int, str]] = []
    printed: list[str] = []
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            outputs.append((int(line.removeprefix(MARKER)), "\n".join(printed)))
            printed = []
        else:
            printed.append(line)
    failures = []
    for command, (code, output) in zip(commands, outputs, strict=False):
        if code != command.exit_code:
            failures.append(f"{where(path, block)} `{command.command}` exited {code}, not {command.exit_code}:\n{output}")
        elif missing := missing_lines(command.expected, output):
            failures.append(f"{where(path, block)} `{command.command}` did not print:\n" + "\n".join(missing) + f"\n--- it printed:\n{output}")
    if len(outputs) != len(commands):
        failures.append(f"{where(path, block)}: the shell stopped after {len(outputs)} of {len(commands)} commands:\n{result.stdout}")
    return failures


def check_only(words: list[str], cwd: Path) -> str | None:
    """Why the command would not run as written, or None."""
    # Leading NAME=value words set the command's environment; the command is what follows.
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words = words[1:]
    if not words:
        return None
    name = ["lineage", *words[1:]] if words[0].endswith("/lineage") else words
    if not any(name[: len(prefix.split())] == prefix.split() for prefix in CHECK_ONLY):
        return f"{shlex.join(words)!r} is not in CHECK_ONLY: show it in an sh or console block, or add it there with a reason"
    if name[0] == "make":
        # -n prints the recipe without running it, and fails when there is no such target.
        probe = subprocess.run(["make", "-n", *name[1:]], cwd=cwd, capture_output=True, text=True, timeout=30)
        return None if probe.returncode == 0 else f"{shlex.join(words)!r}: {probe.stdout}{probe.stderr}"
    if name[0] == "lineage":
        # --help is eager: it answers before the arguments are checked, but after the subcommand
        # and every option are parsed, so an unknown one fails.
        result = CliRunner().invoke(app, [*name[1:], "--help"])
        return None if result.exit_code == 0 else f"{shlex.join(words)!r}: {result.output}"
    return None


@pytest.mark.parametrize("path", runnable_docs(), ids=lambda path: str(path.relative_to(ROOT)))
def test_doc_commands_run(path: Path, scratch: Path) -> None:
    store_url = f"sqlite:///{scratch.parent / 'lineage.db'}"
    env = environment(store_url)
    failures: list[str] = []
    runnable = [block for block in blocks(path) if block.tag in {"sh", "console"}]
    # A server costs seconds of CPU to start: only for files whose commands talk to one.
    server = running(store_url) if any(DOC_PORT in block.body for block in runnable) else nullcontext(NO_SERVER)
    with server as base_url:
        for block in blocks(path):
            if block.tag == "sh":
                result = run(block.body, scratch, env, base_url, "-e")
                if result.returncode != 0:
                    failures.append(f"{where(path, block)} exited {result.returncode}:\n{result.stdout}")
            elif block.tag == "console":
                failures.extend(run_console(path, block, scratch, env, base_url))
            elif block.tag == "sh check-only":
                syntax = subprocess.run(["bash", "-n"], input=block.body, capture_output=True, text=True)
                if syntax.returncode != 0:
                    failures.append(f"{where(path, block)} does not parse: {syntax.stderr}")
                    continue
                for words in shell_commands(block.body):
                    if problem := check_only(words, scratch):
                        failures.append(f"{where(path, block)} {problem}")
    assert not failures, "\n\n".join(failures)


def test_readme_tour_is_run() -> None:
    """The README's tour is what a newcomer pastes first: it must stay in blocks the test runs."""
    readme = blocks(ROOT / "README.md")
    commands = [command.command for block in readme if block.tag == "console" for command in console_commands(block.body)]
    assert any(command.startswith("lineage impact") for command in commands)
    assert any("examples/incident.ndjson" in command for command in commands)


@pytest.mark.parametrize(
    ("expected", "output", "missing"),
    [
        pytest.param(["a  b", "...", "d"], "a b\nc\nd\n", [], id="whitespace-and-ellipsis"),
        pytest.param(["d", "a b"], "a b\nc\nd\n", ["a b"], id="order-matters"),
        pytest.param(["a"], "a b\n", ["a"], id="whole-lines-only"),
        pytest.param(["ok: 3 entries, head ..."], "ok: 3 entries, head 9c6a\n", [], id="line-start"),
        pytest.param(["ok: 3 entries, head ..."], "ok: 4 entries, head 9c6a\n", ["ok: 3 entries, head ..."], id="line-start-differs"),
    ],
)
def test_shown_output_is_matched_line_by_line(expected: list[str], output: str, missing: list[str]) -> None:
    assert missing_lines(expected, output) == missing


def test_console_commands_carry_their_exit_code() -> None:
    commands = console_commands("$ lineage impact nope   # exits 1\nerror: nothing matches 'nope'\n$ lineage verify\n")
    assert [(command.command.split("#")[0].strip(), command.exit_code) for command in commands] == [
        ("lineage impact nope", 1),
        ("lineage verify", 0),
    ]
    assert commands[0].expected == ["error: nothing matches 'nope'"]


def test_check_only_commands_are_listed_and_probed(tmp_path: Path) -> None:
    """Outside CHECK_ONLY a command is reported, not skipped; inside, a wrong option still fails."""
    assert check_only(["lineage", "impact", "data-v1.8.2"], tmp_path) is not None
    assert check_only(["lineage", "serve", "--port", "5000"], tmp_path) is None
    assert check_only(["lineage", "serve", "--no-such-option"], tmp_path) is not None
    assert check_only(["docker", "compose", "up", "--build"], tmp_path) is None
    assert check_only(["LINEAGE_STORE=bolt://127.0.0.1:7687", "lineage", "serve", "--workers", "2"], tmp_path) is None
    assert check_only(["LINEAGE_STORE=bolt://127.0.0.1:7687", "lineage", "impact", "x"], tmp_path) is not None


LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def anchor(heading: str) -> str:
    """The fragment a Markdown renderer gives a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("path", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_doc_links_resolve(path: Path) -> None:
    """Every link to another page of the docs (and its #section) leads somewhere."""
    broken = []
    for match in LINK.finditer(FENCE.sub("", path.read_text(encoding="utf-8"))):
        target = match["target"]
        if re.match(r"[a-z]+:", target):
            continue
        file, _, fragment = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: {broken}"
