"""Column lineage from real producers: a Spark job with the OpenLineage listener, and the corpus."""
