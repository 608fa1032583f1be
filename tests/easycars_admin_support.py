"""Helpers for the EasyCars settings, dashboard, history and API tests."""

import pytest

from .admin_support import make_editor

SYNC_PERMISSIONS = (
    "wagtailadmin.access_admin",
    "wagtail_easycars.view_sync_status",
    "wagtail_easycars.trigger_sync",
    "wagtail_easycars.manage_credentials",
)

#: Every plaintext secret the factories and tests use; none may ever appear in a response.
SECRETS = (
    # CredentialFactory's defaults (sandbox account 1)
    "00000000-0000-0000-0000-000000000001",
    "00000000-0000-0000-0000-000000000002",
    "EC000001",
    "00000000-0000-0000-0000-000000000003",
    "NEW-CLIENT-SECRET-5d1c",
    "NEW-ACCOUNT-SECRET-9a7e",
)


def make_sync_admin(*dealerships, permissions=SYNC_PERMISSIONS, role="admin"):
    """A member of ``dealerships`` with ``role`` there (``"admin"`` or ``"staff"``) and ``permissions``."""
    return make_editor(*dealerships, permissions=permissions, role=role)


def assert_no_secrets(response, *extra):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    for secret in (*SECRETS, *extra):
        assert secret not in text, f"a secret leaked into {response.request['PATH_INFO']}"


@pytest.fixture
def admin_of(client):
    """``admin_of(dealership, ...)``: a logged-in client for a member with every EasyCars permission.

    ``role="staff"`` makes them staff instead of admin of those dealerships.
    """

    def login(*dealerships, permissions=SYNC_PERMISSIONS, role="admin"):
        user = make_sync_admin(*dealerships, permissions=permissions, role=role)
        client.force_login(user)
        client.user = user
        return client

    return login
