# Set-up is two commands: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install chromium web bench demo neo4j-start neo4j-stop kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start the API on the embedded SQLite store (data/lineage.db) at http://127.0.0.1:5000.
## Ctrl-C or SIGTERM stops it cleanly with exit code 0: the service takes the terminal's
## foreground (LINEAGE_OWN_TERMINAL, lineage/cli/terminal.py), so Ctrl-C is its alone, not make's
run: $(STAMP)
	LINEAGE_OWN_TERMINAL=1 LINEAGE_STORE=$${LINEAGE_STORE:-sqlite:///data/lineage.db} $(BIN)/lineage serve

## Run the whole suite on SQLite and on a real Neo4j 5.26 (started locally unless LINEAGE_TEST_NEO4J_URI is set),
## with a real Kafka 4.x broker (started locally unless LINEAGE_TEST_KAFKA_BOOTSTRAP is set),
## the explorer page in Debian's headless Chromium, and a real Spark job with the OpenLineage
## listener (pyspark from the test extras, the listener jar fetched by Maven into .spark/)
test: $(STAMP) chromium
	@if [ -z "$$LINEAGE_TEST_NEO4J_URI" ]; then $(BIN)/python ops/neo4j_local.py install; fi
	@if [ -z "$$LINEAGE_TEST_KAFKA_BOOTSTRAP" ]; then $(BIN)/python ops/kafka_local.py install; fi
	$(BIN)/python ops/spark_listener.py install >/dev/null
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## Debian's Chromium for the browser tests (Playwright drives it; it never downloads browsers)
chromium:
	@{ command -v chromium >/dev/null && [ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ]; } || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-droid-fallback; }

## Rebuild the explorer page (web/ -> api/static/, committed) with the pinned npm packages
web:
	cd web && npm ci --no-audit --no-fund && npm run build

## Benchmarks on both stores (quick); `make bench BENCH_ARGS=--full` for 10k/100k/1M events
## (with MARQUEZ_URL set, also side by side with that Marquez; BENCH_ARGS=--marquez-only for only that)
bench: $(STAMP)
	$(BIN)/python ops/neo4j_local.py install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## The ML release story of examples/churn through the emitters SDK, and the incident answers.
## Always starts its own service on a fresh data/demo.db at http://127.0.0.1:$LINEAGE_PORT (a free
## port when unset) and stops it; never sends the story to a service already running, and refuses
## when LINEAGE_PORT is taken. Explore it afterwards: LINEAGE_STORE=sqlite:///data/demo.db make run
demo: $(STAMP)
	$(BIN)/python -m examples.demo

## A Neo4j 5.26 for local use (bolt://127.0.0.1:7687, no auth), without Docker
neo4j-start: $(STAMP)
	$(BIN)/python ops/neo4j_local.py start

neo4j-stop:
	$(BIN)/python ops/neo4j_local.py stop

## A Kafka 4.x broker in KRaft mode for local use (127.0.0.1:9092), without Docker (docs/kafka.md)
kafka-start: $(STAMP)
	$(BIN)/python ops/kafka_local.py start

kafka-stop:
	$(BIN)/python ops/kafka_local.py stop

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
