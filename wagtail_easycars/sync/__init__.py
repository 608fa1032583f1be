"""Talking to EasyCars: the typed contract, the HTTP client and (elsewhere) the syncs built on it."""
