"""Leads out and back: the outbox, pushes to EasyCars (exactly once), reconciliation, refresh."""
