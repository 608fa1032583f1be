"""Photo URLs known to be broken: skipped until their back-off ends, then tried again quietly.

A URL that cannot be used (missing, not an image, damaged, too big, too slow...) gets a
:class:`~wagtail_easycars.models.BrokenPhotoURL` row and is not fetched again before its
``retry_after``: ``PHOTO_RETRY_INITIAL_DELAY`` after the first failure, doubling with each one up
to ``PHOTO_RETRY_MAX_DELAY``. The first failure is a warning of its run; later ones are counted
as unavailable photos. A URL that is fetched again is forgotten, and so is one that no run has
tried for :data:`FORGET_AFTER` or twice ``PHOTO_RETRY_MAX_DELAY``, whichever is longer (it left
the feed).
"""

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from ....conf import get_setting
from ....models import BrokenPhotoURL

FORGET_AFTER = timedelta(days=30)
REASON_LENGTH = 255
URL_LENGTH = 1000


def url_hash(url):
    """SHA-256 of the whole URL: what identifies a broken URL (its query string is never stored)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def readable_url(url):
    """``url`` without credentials, query string or fragment: safe to store and to show."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))[:URL_LENGTH]


def retry_delay(failures):
    """How long a URL that failed ``failures`` times in a row waits before it is fetched again."""
    initial = max(0.0, float(get_setting("PHOTO_RETRY_INITIAL_DELAY")))
    ceiling = max(initial, float(get_setting("PHOTO_RETRY_MAX_DELAY")))
    return timedelta(seconds=min(ceiling, initial * 2 ** min(max(failures - 1, 0), 32)))


class BrokenURLs:
    """A dealership's broken photo URLs for one photo run, and what the run learns about them.

    Read once when the run's photo work starts; changes are kept in memory and written by
    :meth:`save` (a query per kind of change, none when nothing changed).
    """

    def __init__(self, dealership, now):
        self.dealership = dealership
        self.now = now
        #: url hash -> BrokenPhotoURL, as stored when the run began or as the run changed it.
        self.rows = {row.url_hash: row for row in BrokenPhotoURL.objects.filter(dealership=dealership)}
        #: Hashes known to be broken before this run: their failures are no longer news.
        self.known_before = frozenset(self.rows)
        self._created, self._updated, self._recovered, self._failed_this_run = {}, {}, set(), set()

    def waiting(self, url):
        """Whether ``url`` is broken and its back-off has not ended: it is not fetched."""
        row = self.rows.get(url_hash(url))
        return row is not None and row.retry_after > self.now

    def was_known(self, url):
        """Whether ``url`` was known to be broken before this run."""
        return url_hash(url) in self.known_before

    def failed(self, url, reason):
        """Record that ``url`` could not be used (once per run, however many vehicles share it)."""
        key = url_hash(url)
        if key in self._failed_this_run:
            return
        self._failed_this_run.add(key)
        self._recovered.discard(key)
        row = self.rows.get(key)
        reason = str(reason)[:REASON_LENGTH]
        if row is None:
            row = BrokenPhotoURL(
                dealership=self.dealership, url_hash=key, url=readable_url(url), reason=reason, failures=1,
                first_failed_at=self.now, last_failed_at=self.now, retry_after=self.now + retry_delay(1),
            )  # fmt: skip
            self.rows[key] = self._created[key] = row
            return
        row.failures += 1
        row.reason, row.last_failed_at = reason, self.now
        row.retry_after = self.now + retry_delay(row.failures)
        if key not in self._created:
            self._updated[key] = row

    def fetched(self, url):
        """``url`` was fetched: it is no longer broken."""
        key = url_hash(url)
        if key in self.rows and key not in self._failed_this_run:
            del self.rows[key]
            self._created.pop(key, None)
            self._updated.pop(key, None)
            if key in self.known_before:
                self._recovered.add(key)

    def save(self):
        """Write what changed since the last save."""
        if self._created:
            BrokenPhotoURL.objects.bulk_create(self._created.values())
        if self._updated:
            BrokenPhotoURL.objects.bulk_update(
                self._updated.values(), ["reason", "failures", "last_failed_at", "retry_after"]
            )
        if self._recovered:
            BrokenPhotoURL.objects.filter(dealership=self.dealership, url_hash__in=self._recovered).delete()
        self._created, self._updated, self._recovered = {}, {}, set()


def forget_stale_broken_urls(dealership, now):
    """Delete the broken URLs no run has tried for a long while: they left the feed."""
    age = max(FORGET_AFTER, 2 * timedelta(seconds=float(get_setting("PHOTO_RETRY_MAX_DELAY"))))
    BrokenPhotoURL.objects.filter(dealership=dealership, last_failed_at__lt=now - age).delete()
