"""Keeping credentials and bearer tokens out of logs, exceptions and stored payloads."""

import logging
import re

REDACTED = "***"
#: Keys whose values are secrets wherever they appear (compared case-insensitively).
SECRET_KEYS = frozenset({"accountsecret", "clientsecret", "token", "authorization", "access_token"})
#: The four credential values: never in a log line, even the two that are not secret on their own
#: (RequestToken sends the Client ID in its query string, and httpx logs every URL at INFO).
CREDENTIAL_KEYS = ("ClientID", "ClientSecret", "AccountNumber", "AccountSecret")
_KEYS = "|".join(CREDENTIAL_KEYS)
_QUERY_SECRET = re.compile(rf"(?i)\b((?:{_KEYS})=)[^&\s\"']*")
# A quoted value or a bare one, after a JSON or Python-repr key; the replacement keeps JSON valid.
_JSON_SECRET = re.compile(rf"(?i)([\"']?\b(?:{_KEYS})[\"']?\s*:\s*)(?:\"[^\"]*\"|'[^']*'|[^,}}\s]+)")
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
    """``text`` with the four credential values (as query parameters or JSON keys) and bearer tokens blanked."""
    text = _QUERY_SECRET.sub(r"\1" + REDACTED, text)
    text = _JSON_SECRET.sub(rf'\1"{REDACTED}"', text)
    return _BEARER.sub(r"\1" + REDACTED, text)


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


#: httpx logs every request URL at INFO; httpcore's loggers trace connections at DEBUG. A logger's
#: filters only see the records made on that very logger, so each one gets its own.
FILTERED_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def install_log_filter():
    """Attach the filter to the HTTP libraries' loggers, once per process."""
    for name in FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSecretsFilter) for existing in logger.filters):
            logger.addFilter(RedactSecretsFilter())
