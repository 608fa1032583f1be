"""The syncs, built on the client: run bookkeeping (runs.py), stock in (stock/), leads out and back (leads/)."""
