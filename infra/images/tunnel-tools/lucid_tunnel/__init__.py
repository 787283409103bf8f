"""Lucid's tunnelling utilities over Tor's control port."""
