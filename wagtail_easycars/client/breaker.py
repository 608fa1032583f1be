"""A circuit breaker per environment and account, shared across processes via Django's cache.

Closed: calls go through and consecutive transient failures are counted. At the threshold the
breaker opens and calls fail fast. After the reset period one caller wins the trial slot
(``cache.add``) and its call decides: success closes the breaker, failure re-opens it.
"""

import hashlib
import time

from ..conf import get_setting
from .errors import EasyCarsCircuitOpen


class CircuitBreaker:
    def __init__(self, cache, environment, account_number, label=""):
        self.cache = cache
        self.label = label or account_number
        digest = hashlib.sha256(f"{environment}|{account_number}".encode()).hexdigest()[:32]
        prefix = f"wagtail_easycars:breaker:{digest}"
        self._failures = f"{prefix}:failures"
        self._open_until = f"{prefix}:open_until"
        self._trial = f"{prefix}:trial"

    def before_call(self):
        """Raise :class:`EasyCarsCircuitOpen` unless this call may go ahead.

        Returns ``True`` when the call is the half-open trial.
        """
        open_until = self.cache.get(self._open_until)
        if open_until is None:
            return False
        remaining = open_until - time.time()
        if remaining <= 0 and self.cache.add(self._trial, 1, get_setting("BREAKER_RESET_SECONDS")):
            return True
        wait = max(1, round(remaining))
        raise EasyCarsCircuitOpen(
            f"EasyCars calls for {self.label} are paused for about {wait} s after repeated failures; "
            "they resume automatically.",
        )

    def record_success(self, trial=False):
        if trial or self.cache.get(self._failures) or self.cache.get(self._open_until):
            self.cache.delete_many([self._failures, self._open_until, self._trial])

    def record_failure(self, trial=False):
        if trial:
            self._open()
            return
        self.cache.add(self._failures, 0, None)
        try:
            failures = self.cache.incr(self._failures)
        except ValueError:  # evicted between add and incr
            self.cache.set(self._failures, 1, None)
            failures = 1
        if failures >= get_setting("BREAKER_FAILURE_THRESHOLD"):
            self._open()

    def is_open(self):
        open_until = self.cache.get(self._open_until)
        return open_until is not None and open_until > time.time()

    def _open(self):
        self.cache.set(self._open_until, time.time() + get_setting("BREAKER_RESET_SECONDS"), None)
        self.cache.set(self._failures, 0, None)
        self.cache.delete(self._trial)
