"""Tests of audit reports and the hash-chain check."""
