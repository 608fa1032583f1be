"""The unchanged-feed shortcut: a feed byte for byte the previous run's is not hashed item by item.

Each run keeps the fingerprint of the body it fetched in its ``response_summary``
(``feed_fingerprint``), only when every item of that feed is then stored with its hash.
"""

import hashlib

from ...models import SyncLog
from . import mapping

#: Photo-only runs between two stock runs are skipped; past this many, items are just hashed.
PHOTO_RUNS_LOOKED_PAST = 5


def feed_fingerprint(body):
    """SHA-256 of the mapping version and a GetAdvertisementStocks body; "" without a body."""
    if not body:
        return ""
    digest = hashlib.sha256(f"{mapping.MAPPING_VERSION}:".encode())
    digest.update(body)
    return digest.hexdigest()


def previous_fingerprint(dealership, log):
    """The fingerprint of the feed the stock run before ``log`` left stored, or "".

    When this run's feed is byte for byte that one, each stored vehicle's content hash is
    already the hash of its item, unless it was cleared since (an editor unlocked a field)
    or the vehicle is gone: the items need not be hashed one by one, which is most of the
    cost of a re-sync with nothing changed. Runs are serial per dealership (the lease), so
    "previous" is the latest other stock run that fetched; photo-only runs do not count,
    and one that failed, or left any item unstored, has no fingerprint.
    """
    recent = (
        SyncLog.objects.filter(dealership=dealership, sync_type=SyncLog.SyncType.STOCK)
        .exclude(pk=log.pk)
        .values_list("status", "response_summary")[:PHOTO_RUNS_LOOKED_PAST]
    )
    for status, summary in recent:
        summary = summary if isinstance(summary, dict) else {}
        if summary.get("photo_run"):
            continue
        if status in (SyncLog.Status.SUCCESS, SyncLog.Status.WARNING):
            return summary.get("feed_fingerprint") or ""
        return ""
    return ""
