"""Lineage graph service for ML releases: OpenLineage events in, a versioned graph out."""

__version__ = "0.1.0"
