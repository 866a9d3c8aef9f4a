# The API image. `docker compose up` runs it against Neo4j; see docker-compose.yml.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY lineage ./lineage
COPY api ./api
# The CLI's `emit` command imports the emitters SDK, so `lineage serve` needs it too.
COPY emitters ./emitters
RUN pip install --no-cache-dir . && useradd --system --uid 10001 lineage && mkdir -p /data && chown lineage /data
USER lineage

ENV LINEAGE_HOST=0.0.0.0 \
    LINEAGE_PORT=5000 \
    LINEAGE_STORE=sqlite:////data/lineage.db
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:5000/readyz').status != 200)"
CMD ["lineage", "serve"]
