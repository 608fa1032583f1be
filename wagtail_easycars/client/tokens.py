"""Bearer tokens shared by every worker through Django's cache, one per service."""

import base64
import hashlib
import json
import math
import time

from ..conf import get_setting

#: Used when a token's ``exp`` claim cannot be read (the lifetime in docs/easycars-api.md#token-shape).
DEFAULT_LIFETIME = 600


def token_expiry(token, now=None):
    """The Unix time a JWT expires, read from its payload without verifying it."""
    now = time.time() if now is None else now
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return now + DEFAULT_LIFETIME
    return exp


class TokenCache:
    """Where the tokens of one API client live; keys never contain a secret."""

    def __init__(self, cache, environment, base_url, client_id):
        self.cache = cache
        digest = hashlib.sha256(f"{environment}|{base_url}|{client_id}".encode()).hexdigest()[:32]
        self._prefix = f"wagtail_easycars:token:{digest}"

    def key(self, service):
        return f"{self._prefix}:{service}"

    def get(self, service):
        return self.cache.get(self.key(service))

    def store(self, service, token):
        now = time.time()
        lifetime = token_expiry(token, now) - now
        ttl = lifetime - get_setting("TOKEN_REFRESH_MARGIN")
        if ttl <= 0:
            # A lifetime shorter than the margin: still share it, for half its life.
            ttl = lifetime / 2
        if ttl >= 1:
            self.cache.set(self.key(service), token, math.floor(ttl))

    def discard(self, service, token):
        """Forget ``token`` unless another worker has already replaced it."""
        if self.cache.get(self.key(service)) == token:
            self.cache.delete(self.key(service))
