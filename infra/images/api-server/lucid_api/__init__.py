"""Lucid's API server."""
