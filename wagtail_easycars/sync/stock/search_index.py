"""Wagtail search for synced vehicles: the sync writes in bulk, which sends no signals.

Indexing costs milliseconds per vehicle in Wagtail's search backends, far more than the sync
itself, so a run only queues the ids it created or changed, as tasks of ``INDEX_CHUNK`` ids that
start once its rows have committed.
"""

import logging

from django.db import transaction

from ... import jobs
from ...models import Vehicle

logger = logging.getLogger(__name__)

INDEX_CHUNK = 500


def queue_search_index_update(vehicle_ids):
    """Queue the search index task for the vehicles a run created or changed (after commit)."""
    if not vehicle_ids:
        return
    chunks = [vehicle_ids[i : i + INDEX_CHUNK] for i in range(0, len(vehicle_ids), INDEX_CHUNK)]

    def enqueue():
        try:
            for chunk in chunks:
                jobs.enqueue(jobs.INDEX_VEHICLES, chunk, name="index-vehicles")
        except Exception:
            logger.exception("Queueing the search index update after a stock sync failed")

    transaction.on_commit(enqueue)


def index_vehicles(vehicle_ids):
    """Add or update these vehicles in every auto-updating search backend."""
    from wagtail.search.backends import get_search_backends

    vehicles = list(Vehicle.objects.filter(pk__in=vehicle_ids))
    for backend in get_search_backends(with_auto_update=True):
        backend.add_bulk(Vehicle, vehicles)
    return len(vehicles)
