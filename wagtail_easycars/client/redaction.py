"""Keeping credentials and bearer tokens out of logs, exceptions and stored payloads."""

import logging
import re

REDACTED = "***"
#: Keys whose values are secrets wherever they appear (compared case-insensitively).
SECRET_KEYS = frozenset({"accountsecret", "clientsecret", "token", "authorization", "access_token"})
_QUERY_SECRET = re.compile(r"(?i)(ClientSecret=)[^&\s\"']*")
_BEARER = re.compile(r"(?i)(Bearer\s+)[A-Za-z0-9\-_.=]+")


def redact(payload):
    """A deep copy of ``payload`` with every secret value replaced by ``"***"``."""
    if isinstance(payload, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and key.lower() in SECRET_KEYS and value not in (None, "")
            else redact(value)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [redact(value) for value in payload]
    return payload


def redact_text(text):
    """``text`` with ``ClientSecret=...`` query values and bearer tokens blanked."""
    return _BEARER.sub(r"\1" + REDACTED, _QUERY_SECRET.sub(r"\1" + REDACTED, text))


class RedactSecretsFilter(logging.Filter):
    """Blanks secrets in records of other libraries' loggers (httpx logs full request URLs)."""

    def filter(self, record):
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact_text(str(arg)) if _is_texty(arg) else arg for arg in args)
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


def _is_texty(value):
    return not isinstance(value, int | float | bool | type(None))


def install_log_filter():
    """Attach the filter to the ``httpx`` logger once per process."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactSecretsFilter) for existing in logger.filters):
        logger.addFilter(RedactSecretsFilter())
