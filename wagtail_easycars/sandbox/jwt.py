"""HS256 tokens shaped like EasyCars' (claims ClientID, nbf, exp, iat, in that order; see
docs/easycars-api.md#token-shape).

Each service signs with its own key, so a StockService token fails LeadService's check while
the claims stay exactly those of the real tokens. Revoking rotates the keys.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, services):
        self.services = tuple(services)
        self.rotate()

    def rotate(self):
        """Invalidate every token issued so far."""
        self._keys = {service: secrets.token_bytes(32) for service in self.services}

    def issue(self, service, client_id, lifetime):
        now = int(time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        claims = {"ClientID": client_id, "nbf": now, "exp": now + int(lifetime), "iat": now}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._keys[service], f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def verify(self, service, token):
        """The token's ClientID if it is valid for ``service`` right now, else ``None``."""
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self._keys[service], f"{header}.{payload}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(signature)):
                return None
            claims = json.loads(_unb64(payload))
            now = time.time()
            if not (claims["nbf"] - 5 <= now < claims["exp"]):
                return None
            return claims["ClientID"]
        except (ValueError, KeyError, TypeError):
            return None
