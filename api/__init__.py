"""HTTP API: thin routes over the lineage services."""
