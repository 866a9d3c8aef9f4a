"""Turning request bodies into typed, validated, hashed events."""
