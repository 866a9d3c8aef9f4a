"""Compliance: audit reports (build, render) and the check of the event log's hash chain."""
