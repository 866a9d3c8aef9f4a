"""The `lineage` command line."""
