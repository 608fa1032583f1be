"""AES-256-GCM encryption of EasyCars secrets, with a keyring for rotation.

A stored value looks like ``v1:<key id>:<base64(nonce | ciphertext | tag)>``. The key id lets us
decrypt without trial and error and makes rotation a plain re-encrypt. Associated data binds each
ciphertext to the row and field it belongs to, so a value copied elsewhere fails to decrypt.
Keys come only from settings or the environment, never from the database or SECRET_KEY
(rotating SECRET_KEY must not destroy every stored secret).
"""

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

from .conf import get_setting

ENV_VAR = "EASYCARS_ENCRYPTION_KEY"
ENV_KEY_ID = "env"
TOKEN_VERSION = "v1"
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
GENERATE_HINT = 'Generate one with: python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'


class EncryptionKeyError(ImproperlyConfigured):
    """No usable encryption key is configured."""


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted (wrong key, tampered, or copied from elsewhere)."""


def _decode_key(key_id, value):
    if not KEY_ID_PATTERN.match(str(key_id)):
        raise EncryptionKeyError(f"Encryption key id {key_id!r} is invalid: use 1-32 letters, digits, '.', '_' or '-'.")
    if not isinstance(value, str | bytes) or not value:
        raise EncryptionKeyError(f"Encryption key {key_id!r} is empty. {GENERATE_HINT}")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionKeyError(
            f"Encryption key {key_id!r} is not valid base64. It must be the base64 of 32 random bytes. {GENERATE_HINT}"
        ) from None
    if len(raw) != 32:
        raise EncryptionKeyError(
            f"Encryption key {key_id!r} decodes to {len(raw)} bytes; AES-256 needs exactly 32. {GENERATE_HINT}"
        )
    return raw


def load_keyring():
    """Return an ordered ``{key_id: key_bytes}``; the last entry is used for new writes.

    ``WAGTAIL_EASYCARS["ENCRYPTION_KEYS"]`` wins; otherwise the ``EASYCARS_ENCRYPTION_KEY``
    environment variable provides a single key with id ``env``.
    """
    configured = get_setting("ENCRYPTION_KEYS") or {}
    if configured:
        if not isinstance(configured, dict):
            raise EncryptionKeyError(
                'WAGTAIL_EASYCARS["ENCRYPTION_KEYS"] must be a dict of {key_id: base64 key}, oldest first.'
            )
        return {str(kid): _decode_key(kid, value) for kid, value in configured.items()}
    env_value = os.environ.get(ENV_VAR, "").strip()
    if env_value:
        return {ENV_KEY_ID: _decode_key(ENV_KEY_ID, env_value)}
    raise EncryptionKeyError(
        f"No EasyCars encryption key is configured. Set the {ENV_VAR} environment variable to the base64 "
        f'of 32 random bytes, or WAGTAIL_EASYCARS["ENCRYPTION_KEYS"] = {{"key-id": "<base64>"}}. {GENERATE_HINT}'
    )


def current_key_id():
    """The id of the key new values are encrypted with (the last one configured)."""
    return list(load_keyring())[-1]


def encrypt(plaintext, associated_data, *, keyring=None):
    """Encrypt ``plaintext`` (str) under the newest key, bound to ``associated_data`` (str).

    Pass ``keyring`` (from :func:`load_keyring`) to encrypt several values under the same key.
    """
    keyring = load_keyring() if keyring is None else keyring
    key_id = list(keyring)[-1]
    nonce = os.urandom(12)
    sealed = AESGCM(keyring[key_id]).encrypt(nonce, plaintext.encode(), associated_data.encode())
    return f"{TOKEN_VERSION}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(token):
    """The key id written into a stored value, or None when it is not in a known format."""
    parts = (token or "").split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == TOKEN_VERSION else None


def decrypt(token, associated_data, *, context="a stored secret"):
    """Decrypt a value made by :func:`encrypt`; ``context`` names the owner in errors, never the secret."""
    parts = (token or "").split(":", 2)
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise SecretDecryptionError(f"Cannot decrypt {context}: the stored value is not in a known format.")
    _, key_id, body = parts
    keyring = load_keyring()
    if key_id not in keyring:
        raise SecretDecryptionError(
            f"Cannot decrypt {context}: it was encrypted with key {key_id!r}, which is not configured."
        )
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise SecretDecryptionError(f"Cannot decrypt {context}: the stored value is corrupted.") from None
    if len(blob) < 12 + 16:
        raise SecretDecryptionError(f"Cannot decrypt {context}: the stored value is truncated.")
    try:
        plain = AESGCM(keyring[key_id]).decrypt(blob[:12], blob[12:], associated_data.encode())
    except InvalidTag:
        raise SecretDecryptionError(
            f"Cannot decrypt {context}: authentication failed (the value was tampered with, copied from "
            "another record, or the key is wrong)."
        ) from None
    return plain.decode()
