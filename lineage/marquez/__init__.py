"""Marquez's v1 read API over our store, in Marquez 0.50.0's JSON shapes (issue 30; docs/marquez.md).

One module a subject: `common` (constants, errors, time formats), `versions` (dataset versions
as Marquez counts them), `runs`, `datasets` (with sources), `jobs`, `walk` (the lineage graph)
and `catalog` (namespaces, tags, search, events). The routes in api/routes/marquez.py call
what this package exports.
"""

from lineage.marquez.catalog import events, namespace, namespaces, search, tag_definition, tag_known, tags
from lineage.marquez.common import (
    DEFAULT_LIMIT,
    DEFAULT_LINEAGE_DEPTH,
    MAX_LINEAGE_DEPTH,
    TAG_ADD,
    TAG_FIELD,
    TAG_REMOVE,
    MarquezError,
    node_id,
    not_found,
    parse_bound,
)
from lineage.marquez.datasets import dataset, dataset_version, dataset_versions, datasets, source, sources
from lineage.marquez.jobs import job, job_runs, job_version, job_versions, jobs
from lineage.marquez.runs import run, run_facets
from lineage.marquez.walk import lineage

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_LINEAGE_DEPTH",
    "MAX_LINEAGE_DEPTH",
    "TAG_ADD",
    "TAG_FIELD",
    "TAG_REMOVE",
    "MarquezError",
    "dataset",
    "dataset_version",
    "dataset_versions",
    "datasets",
    "events",
    "job",
    "job_runs",
    "job_version",
    "job_versions",
    "jobs",
    "lineage",
    "namespace",
    "namespaces",
    "node_id",
    "not_found",
    "parse_bound",
    "run",
    "run_facets",
    "search",
    "source",
    "sources",
    "tag_definition",
    "tag_known",
    "tags",
]
