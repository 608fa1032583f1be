"""No plaintext secret in logs, command output, reprs, exceptions, sync logs, audit logs or admin pages.

Each test runs real code paths with every logger captured at DEBUG and scans everything that
came out for the plaintext of the secrets involved.
"""

import base64
import io
import logging
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.models import ModelLogEntry

from tests.factories import CredentialFactory, DealershipFactory, MembershipFactory, SuperuserFactory
from wagtail_easycars import crypto
from wagtail_easycars.client.http import test_connection
from wagtail_easycars.models import DealershipLogEntry, EasyCarsCredential, SyncLog
from wagtail_easycars.sync.accounts import account_for
from wagtail_easycars.sync.stock.sync import sync_stock

pytestmark = pytest.mark.django_db

# Distinctive values, so a match can only be a disclosure. The sandbox's own account is used
# where a real exchange is needed (see ``sandbox_secrets``).
CLIENT_SECRET = "cs-7f3a9b2e-client-secret-value"
ACCOUNT_SECRET = "as-41d8c0e2-account-secret-value"
SECRETS = (CLIENT_SECRET, ACCOUNT_SECRET)


@pytest.fixture
def captured(caplog):
    """Every log record of every logger, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    return caplog


def everything_logged(caplog):
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
        lines.append(repr(record.__dict__))
    return "\n".join(lines)


def assert_not_disclosed(text, secrets=SECRETS):
    for secret in secrets:
        assert secret not in text, f"a secret ({secret[:4]}…) was disclosed"


def run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    return out.getvalue() + err.getvalue()


@pytest.fixture
def sandbox_secrets(sandbox_settings):
    account = sandbox_settings.account
    return (account.client_secret, account.account_secret)


def test_credential_repr_str_and_serialization_hold_no_secret():
    credential = CredentialFactory(client_secret=CLIENT_SECRET, account_secret=ACCOUNT_SECRET)
    text = "\n".join(
        [
            repr(credential),
            str(credential),
            repr(credential.__dict__),
            serializers.serialize("json", [credential]),
            repr(EasyCarsCredential.objects.filter(pk=credential.pk).values().get()),
        ]
    )
    assert_not_disclosed(text)


def test_the_account_handed_to_the_client_does_not_show_secrets_in_its_repr():
    credential = CredentialFactory(client_secret=CLIENT_SECRET, account_secret=ACCOUNT_SECRET)
    account = account_for(credential)
    assert account.client_secret == CLIENT_SECRET
    assert_not_disclosed(repr(account) + str(account))


def test_decryption_errors_name_the_dealership_not_the_secret(settings):
    credential = CredentialFactory(client_secret=CLIENT_SECRET, account_secret=ACCOUNT_SECRET)
    other = CredentialFactory()
    other.account_secret_encrypted = credential.account_secret_encrypted
    with pytest.raises(crypto.SecretDecryptionError) as excinfo:
        other.account_secret  # noqa: B018
    assert f"dealership {other.dealership_id}" in str(excinfo.value)
    assert_not_disclosed(str(excinfo.value) + repr(excinfo.value) + str(excinfo.getrepr()))


def test_credentials_commands_disclose_nothing(captured, monkeypatch, settings):
    DealershipFactory(slug="north")
    monkeypatch.setenv("EASYCARS_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("EASYCARS_ACCOUNT_SECRET", ACCOUNT_SECRET)
    output = run(
        "easycars_credentials",
        "set",
        "--dealership",
        "north",
        "--client-id",
        "00000000-0000-0000-0000-00000000000a",
        "--account-number",
        "EC000009",
    )
    output += run("easycars_credentials", "show", "--dealership", "north")
    output += run("easycars_credentials", "set", "--dealership", "north", "--client-secret", "x" * 101)
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS,
        "ENCRYPTION_KEYS": {
            **settings.WAGTAIL_EASYCARS["ENCRYPTION_KEYS"],
            "new": base64.b64encode(b"n" * 32).decode(),
        },
    }
    output += run("easycars_rotate_keys")
    output += run("easycars_credentials", "delete", "--dealership", "north")
    audit = repr(list(ModelLogEntry.objects.values()) + list(DealershipLogEntry.objects.values()))
    assert "Created EasyCars credentials" in output
    assert "re-encrypted under key 'new'" in output
    assert_not_disclosed(output + audit + everything_logged(captured))


def test_connection_tests_disclose_nothing(captured, sandbox_settings, sandbox_secrets):
    good = CredentialFactory(dealership=DealershipFactory(slug="good"))
    wrong_client = CredentialFactory(dealership=DealershipFactory(slug="wrong-client"), client_secret=CLIENT_SECRET)
    wrong_account = CredentialFactory(dealership=DealershipFactory(slug="wrong-account"), account_secret=ACCOUNT_SECRET)
    output = "".join(
        run("easycars_credentials", "test", "--dealership", c.dealership.slug)
        for c in (good, wrong_client, wrong_account)
    )
    assert "both credential pairs work" in output
    assert "Client ID / Client Secret pair failed" in output
    assert "Account Number / Account Secret pair failed" in output
    assert_not_disclosed(output + everything_logged(captured), SECRETS + sandbox_secrets)


def test_demo_output_discloses_no_secret(captured, sandbox_secrets):
    output = run("easycars_demo")
    assert "Login: admin" in output
    assert_not_disclosed(output + everything_logged(captured), sandbox_secrets)


def test_stock_syncs_and_their_logs_disclose_nothing(captured, sandbox_settings, sandbox_secrets):
    ok = CredentialFactory(dealership=DealershipFactory(slug="ok")).dealership
    refused = CredentialFactory(dealership=DealershipFactory(slug="refused"), account_secret=ACCOUNT_SECRET).dealership
    good_log = sync_stock(ok, images=False)
    bad_log = sync_stock(refused, images=False)
    assert good_log.status in (SyncLog.Status.SUCCESS, SyncLog.Status.WARNING)
    assert bad_log.status == SyncLog.Status.FAILED
    stored = serializers.serialize("json", SyncLog.objects.all())
    assert_not_disclosed(stored + everything_logged(captured), SECRETS + sandbox_secrets)


def crawl_admin(client, start="/admin/", limit=50):
    """GET admin pages reachable from ``start`` (up to ``limit``), EasyCars pages first.

    Links that change state are skipped, and sorting/paging variants of a listing count once.
    """
    skip = re.compile(r"logout|delete|unpublish|revert|lock|unlock|copy|move|disable|enable|/action/|export|/bulk/")
    seen, queue, pages = set(), [start], []
    while queue and len(pages) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        key = (parts.path, tuple(sorted(k for k in parse_qs(parts.query) if k not in ("ordering", "p"))))
        if key in seen:
            continue
        seen.add(key)
        response = client.get(url)
        body = response.content.decode(errors="replace")
        pages.append((url, response.status_code, body))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        # Links in the HTML, and the sidebar menu's URLs, which Wagtail renders as JSON.
        links = re.findall(r'href="([^"#]+)"', body) + re.findall(r'"url": "(/admin/[^"#]*)"', body)
        for href in links:
            target = urlsplit(urljoin(url, href.replace("&amp;", "&")))
            if target.netloc in ("", "testserver") and target.path.startswith("/admin/") and not skip.search(href):
                link = target.path + (f"?{target.query}" if target.query else "")
                # EasyCars screens go to the front of the queue: they are what this test is about.
                queue.insert(0, link) if "easycars" in link else queue.append(link)
    return pages


def test_admin_pages_disclose_no_secret(client, captured, monkeypatch):
    DealershipFactory(slug="north")
    monkeypatch.setenv("EASYCARS_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("EASYCARS_ACCOUNT_SECRET", ACCOUNT_SECRET)
    run(
        "easycars_credentials",
        "set",
        *("--dealership", "north", "--client-id", "00000000-0000-0000-0000-00000000000a"),
        *("--account-number", "EC000009"),
    )
    credential = EasyCarsCredential.objects.get()
    assert credential.client_secret == CLIENT_SECRET
    user = SuperuserFactory()
    MembershipFactory(user=user, dealership=credential.dealership)
    client.force_login(user)
    pages = crawl_admin(client)
    reached = [url for url, status, _ in pages if status == 200]
    assert any("easycars" in url for url in reached), "the crawl reached no EasyCars admin screen"
    assert "/admin/reports/site-history/" in reached  # the audit log, with the credential entry
    for url, _status, body in pages:
        for secret in SECRETS:
            assert secret not in body, f"{url} shows a secret"
    assert_not_disclosed(everything_logged(captured))


def test_no_log_record_carries_any_of_the_four_values(captured, sandbox_settings, admin_of):
    """Client ID and Account Number too, at every level, including httpx's and httpcore's lines."""
    account = sandbox_settings.account
    good = CredentialFactory(dealership=DealershipFactory(slug="good"))
    refused = CredentialFactory(dealership=DealershipFactory(slug="refused"), account_secret=ACCOUNT_SECRET)
    test_connection(account)
    sync_stock(good.dealership, images=False)
    sync_stock(refused.dealership, images=False)
    typed = {
        "environment": "test",
        **{name: getattr(account, name) for name in ("client_id", "client_secret", "account_number")},
        "account_secret": ACCOUNT_SECRET,
        "action": "test",
    }
    admin_of(DealershipFactory()).post("/admin/easycars/settings/", typed)
    values = (account.client_id, account.client_secret, account.account_number, account.account_secret)
    assert {"httpx", "httpcore.http11"} <= {record.name for record in captured.records}
    for record in captured.records:
        text = f"{record.getMessage()}\n{record.msg!r}\n{record.args!r}"
        for value in (*values, ACCOUNT_SECRET):
            assert value not in text, f"{record.name} {record.levelname} logged a credential value ({value[:2]}…)"
