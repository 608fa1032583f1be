"""The management commands: easycars_credentials, easycars_rotate_keys, easycars_demo, easycars_sandbox."""

import base64
import io
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from wagtail.models import Site

from tests.factories import CredentialFactory, DealershipFactory
from wagtail_easycars import crypto
from wagtail_easycars.management.commands.easycars_demo import SANDBOX_ACCOUNT, showroom_page_model
from wagtail_easycars.models import Dealership, DealershipLogEntry, DealershipMembership, EasyCarsCredential

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "c1ient-secret-aaaa-bbbb-cccc-dddddddddddd"
ACCOUNT_NUMBER = "EC004321"
ACCOUNT_SECRET = "acc0unt-secret-eeee-ffff-0000-111111111111"
SECRETS = (CLIENT_SECRET, ACCOUNT_SECRET, CLIENT_ID)
KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
ENV_VARS = ("EASYCARS_CLIENT_ID", "EASYCARS_CLIENT_SECRET", "EASYCARS_ACCOUNT_NUMBER", "EASYCARS_ACCOUNT_SECRET")


@pytest.fixture(autouse=True)
def _no_secret_env(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def credentials(*args):
    return run("easycars_credentials", *args)


def set_all(slug, *extra):
    return credentials(
        "set",
        "--dealership",
        slug,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--account-number",
        ACCOUNT_NUMBER,
        "--account-secret",
        ACCOUNT_SECRET,
        *extra,
    )


def log_entries(action):
    return list(DealershipLogEntry.objects.filter(action=action).order_by("pk"))


def assert_no_secret(text):
    for secret in SECRETS:
        assert secret not in text


def with_keys(settings, **keys):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": keys}


# easycars_credentials set --------------------------------------------------------------------


def test_set_creates_encrypted_credentials_and_prints_no_secret():
    dealership = DealershipFactory(slug="north")
    output = set_all("north", "--environment", "production", "--yard-code", "100")
    credential = EasyCarsCredential.objects.get(dealership=dealership)
    assert (credential.client_id, credential.client_secret) == (CLIENT_ID, CLIENT_SECRET)
    assert (credential.account_number, credential.account_secret) == (ACCOUNT_NUMBER, ACCOUNT_SECRET)
    assert credential.environment == "production"
    assert credential.yard_code == "100"
    assert "Created EasyCars credentials for north (production)" in output
    assert_no_secret(output)


def test_set_is_recorded_in_the_audit_log_without_values():
    DealershipFactory(slug="north")
    set_all("north")
    [entry] = log_entries("wagtail_easycars.credentials.set")
    assert entry.object_id == str(EasyCarsCredential.objects.get().pk)
    assert entry.user is None
    assert entry.data["created"] is True
    assert entry.data["changed_fields"] == ["account_number", "account_secret", "client_id", "client_secret"]
    assert_no_secret(str(entry.data) + entry.label)
    assert ACCOUNT_NUMBER not in str(entry.data)


def test_set_reads_secrets_from_environment_variables(monkeypatch):
    DealershipFactory(slug="north")
    monkeypatch.setenv("EASYCARS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("EASYCARS_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("EASYCARS_ACCOUNT_NUMBER", ACCOUNT_NUMBER)
    monkeypatch.setenv("EASYCARS_ACCOUNT_SECRET", ACCOUNT_SECRET)
    output = credentials("set", "--dealership", "north")
    credential = EasyCarsCredential.objects.get()
    assert credential.client_secret == CLIENT_SECRET
    assert credential.account_secret == ACCOUNT_SECRET
    assert credential.environment == "test"
    assert_no_secret(output)


def test_an_option_wins_over_the_environment_variable(monkeypatch):
    DealershipFactory(slug="north")
    monkeypatch.setenv("EASYCARS_CLIENT_SECRET", "from-the-environment")
    set_all("north")
    assert EasyCarsCredential.objects.get().client_secret == CLIENT_SECRET


def test_new_credentials_need_every_secret():
    DealershipFactory(slug="north")
    with pytest.raises(CommandError) as excinfo:
        credentials("set", "--dealership", "north", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    message = str(excinfo.value)
    assert "--account-number (or EASYCARS_ACCOUNT_NUMBER)" in message
    assert "--account-secret (or EASYCARS_ACCOUNT_SECRET)" in message
    assert "--client-id" not in message
    assert_no_secret(message)
    assert not EasyCarsCredential.objects.exists()


def test_set_updates_only_what_is_given():
    DealershipFactory(slug="north")
    set_all("north")
    output = credentials("set", "--dealership", "north", "--account-secret", "new-account-secret", "--disable")
    credential = EasyCarsCredential.objects.get()
    assert credential.account_secret == "new-account-secret"
    assert credential.client_secret == CLIENT_SECRET
    assert credential.is_active is False
    assert "Updated" in output
    assert "account_secret, is_active" in output
    assert log_entries("wagtail_easycars.credentials.set")[-1].data["changed_fields"] == [
        "account_secret",
        "is_active",
    ]


def test_set_with_nothing_to_change_says_so():
    DealershipFactory(slug="north")
    set_all("north")
    output = credentials("set", "--dealership", "north")
    assert "Nothing to change" in output
    assert len(log_entries("wagtail_easycars.credentials.set")) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account-number", "EC" + "1" * 30], "--account-number (or EASYCARS_ACCOUNT_NUMBER) must be at most 20"),
        (["--client-secret", "has a space"], "--client-secret (or EASYCARS_CLIENT_SECRET) was not saved. Remove the"),
        (["--client-secret", "   "], "--client-secret (or EASYCARS_CLIENT_SECRET) is empty"),
        # A byte that is not UTF-8 on the command line arrives as a lone surrogate (surrogateescape).
        (["--client-id", "abc\udcffdef"], "--client-id (or EASYCARS_CLIENT_ID) was not saved. Remove the control"),
        (["--account-secret", "abc\x1bdef"], "--account-secret (or EASYCARS_ACCOUNT_SECRET) was not saved."),
        (["--account-number", "EC\u200b0001"], "--account-number (or EASYCARS_ACCOUNT_NUMBER) was not saved."),
    ],
)
def test_set_rejects_bad_values_without_echoing_them(args, message):
    DealershipFactory(slug="north")
    with pytest.raises(CommandError) as excinfo:
        credentials("set", "--dealership", "north", *args)
    assert message in str(excinfo.value)
    assert args[1].strip() not in str(excinfo.value) or not args[1].strip()


def test_set_rejects_an_unknown_environment():
    DealershipFactory(slug="north")
    with pytest.raises(CommandError, match="invalid choice: 'staging'"):
        set_all("north", "--environment", "staging")


def test_an_unknown_dealership_is_named():
    DealershipFactory(slug="north")
    with pytest.raises(CommandError, match="No dealership with slug 'south'. Known dealerships: north."):
        set_all("south")


def test_set_without_an_encryption_key_explains_and_stores_nothing(settings, monkeypatch):
    DealershipFactory(slug="north")
    with_keys(settings)
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)
    with pytest.raises(CommandError, match="EASYCARS_ENCRYPTION_KEY"):
        set_all("north")
    assert not EasyCarsCredential.objects.exists()


def test_set_of_some_values_under_a_key_that_cannot_read_the_rest_changes_nothing(settings):
    credential = CredentialFactory(dealership=DealershipFactory(slug="north"))
    before = [getattr(credential, f"{field}_encrypted") for field in ("client_id", "account_secret")]
    with_keys(settings, **{"test-1": KEY_B})  # the same id, another key
    with pytest.raises(CommandError) as excinfo:
        credentials("set", "--dealership", "north", "--client-secret", CLIENT_SECRET)
    message = str(excinfo.value)
    assert "cannot be read with this site's encryption key: give all four values" in message
    assert "Nothing was changed." in message
    assert_no_secret(message)
    credential.refresh_from_db()
    assert [getattr(credential, f"{field}_encrypted") for field in ("client_id", "account_secret")] == before


def test_set_of_all_four_values_replaces_credentials_no_key_can_read(settings):
    CredentialFactory(dealership=DealershipFactory(slug="north"))
    with_keys(settings, **{"test-1": KEY_B})
    set_all("north")
    credential = EasyCarsCredential.objects.get()
    assert (credential.client_id, credential.account_secret) == (CLIENT_ID, ACCOUNT_SECRET)
    assert {crypto.key_id_of(credential.client_secret_encrypted)} == {"test-1"}


# show / delete ---------------------------------------------------------------------------------


def test_show_prints_metadata_and_masked_values_only():
    DealershipFactory(slug="north", name="North Motors")
    set_all("north", "--yard-code", "200")
    output = credentials("show", "--dealership", "north")
    assert "North Motors (north)" in output
    assert "Test" in output
    assert "…4321" in output
    assert "…1111" in output  # last four of the account secret
    assert "200" in output
    assert "test-1" in output  # the key id
    assert_no_secret(output)
    assert ACCOUNT_NUMBER not in output


def test_show_without_credentials_says_how_to_add_them():
    DealershipFactory(slug="north")
    with pytest.raises(CommandError, match="has no EasyCars credentials. Add them with: .*set --dealership north"):
        credentials("show", "--dealership", "north")


def test_show_reports_an_undecryptable_secret_by_dealership(settings):
    credential = CredentialFactory(dealership=DealershipFactory(slug="north"), client_secret=CLIENT_SECRET)
    with_keys(settings, other=KEY_B)
    with pytest.raises(CommandError) as excinfo:
        credentials("show", "--dealership", "north")
    assert f"dealership {credential.dealership_id}" in str(excinfo.value)
    assert "key 'test-1', which is not configured" in str(excinfo.value)
    assert_no_secret(str(excinfo.value))


def test_delete_removes_the_credentials_and_logs_it():
    DealershipFactory(slug="north")
    set_all("north")
    pk = EasyCarsCredential.objects.get().pk
    output = credentials("delete", "--dealership", "north")
    assert "Deleted the EasyCars credentials of north" in output
    assert not EasyCarsCredential.objects.exists()
    [entry] = log_entries("wagtail_easycars.credentials.delete")
    assert entry.object_id == str(pk)
    assert entry.deleted is True
    with pytest.raises(CommandError, match="has no EasyCars credentials"):
        credentials("delete", "--dealership", "north")


def test_a_subcommand_is_required():
    with pytest.raises(CommandError, match="required"):
        credentials()


def test_failures_exit_non_zero_from_the_command_line(capsys):
    DealershipFactory(slug="north")
    with pytest.raises(SystemExit) as excinfo:
        execute_from_command_line(["manage.py", "easycars_credentials", "show", "--dealership", "south"])
    assert excinfo.value.code == 1
    assert "No dealership with slug 'south'" in capsys.readouterr().err


def test_success_exits_zero_from_the_command_line(capsys):
    CredentialFactory(dealership=DealershipFactory(slug="north"))
    execute_from_command_line(["manage.py", "easycars_credentials", "show", "--dealership", "north"])
    assert "Account number" in capsys.readouterr().out


# test -------------------------------------------------------------------------------------------


def test_test_reports_working_credentials(sandbox_settings):
    CredentialFactory(dealership=DealershipFactory(slug="north"))  # the sandbox's first account
    output = credentials("test", "--dealership", "north")
    assert output.strip() == "north (test): both credential pairs work."


def test_test_names_a_wrong_client_pair(sandbox_settings):
    CredentialFactory(dealership=DealershipFactory(slug="north"), client_secret=CLIENT_SECRET)
    with pytest.raises(CommandError) as excinfo:
        credentials("test", "--dealership", "north")
    assert "The Client ID / Client Secret pair failed" in str(excinfo.value)
    assert_no_secret(str(excinfo.value))


def test_test_names_a_wrong_account_pair(sandbox_settings):
    CredentialFactory(dealership=DealershipFactory(slug="north"), account_secret=ACCOUNT_SECRET)
    with pytest.raises(CommandError) as excinfo:
        credentials("test", "--dealership", "north")
    assert "The Account Number / Account Secret pair failed" in str(excinfo.value)
    assert_no_secret(str(excinfo.value))


def test_test_reports_an_unreachable_server(settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS,
        "BASE_URLS": {"test": f"http://127.0.0.1:{port}/TestECService", "production": "http://127.0.0.1:1/x"},
        "MAX_RETRIES": 0,
    }
    CredentialFactory(dealership=DealershipFactory(slug="north"))
    with pytest.raises(CommandError, match="north \\(test\\): .*127.0.0.1"):
        credentials("test", "--dealership", "north")


# easycars_rotate_keys ---------------------------------------------------------------------------


def test_rotate_keys_re_encrypts_under_the_newest_key_and_is_idempotent(settings):
    with_keys(settings, a=KEY_A)
    north = CredentialFactory(dealership=DealershipFactory(slug="north"), client_secret=CLIENT_SECRET)
    CredentialFactory(dealership=DealershipFactory(slug="south"))
    with_keys(settings, a=KEY_A, b=KEY_B)

    output = run("easycars_rotate_keys")
    assert "2 credential(s) re-encrypted under key 'b', 0 already current, 0 failed." in output
    assert "0 credential(s) re-encrypted under key 'b', 2 already current, 0 failed." in run("easycars_rotate_keys")

    with_keys(settings, b=KEY_B)  # the old key can go now
    north = EasyCarsCredential.objects.get(pk=north.pk)
    assert north.client_secret == CLIENT_SECRET
    assert crypto.key_id_of(north.account_secret_encrypted) == "b"


def test_rotate_keys_dry_run_changes_nothing(settings):
    with_keys(settings, a=KEY_A)
    credential = CredentialFactory()
    before = credential.client_secret_encrypted
    with_keys(settings, a=KEY_A, b=KEY_B)
    assert "1 credential(s) would be re-encrypted under key 'b'" in run("easycars_rotate_keys", "--dry-run")
    credential.refresh_from_db()
    assert credential.client_secret_encrypted == before


def test_rotate_keys_names_the_dealership_it_cannot_decrypt_and_rotates_the_rest(settings):
    with_keys(settings, a=KEY_A)
    broken = CredentialFactory(dealership=DealershipFactory(slug="broken", name="Broken Motors"))
    fine = CredentialFactory(dealership=DealershipFactory(slug="fine"), client_secret=CLIENT_SECRET)
    # A value copied from another row: encrypted correctly, but bound to the other dealership.
    broken.client_secret_encrypted = fine.client_secret_encrypted
    broken.save()
    with_keys(settings, a=KEY_A, b=KEY_B)

    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("easycars_rotate_keys", stdout=io.StringIO(), stderr=err)
    assert "1 credential(s) re-encrypted under key 'b', 0 already current, 1 failed." in str(excinfo.value)
    assert "Dealership 'Broken Motors' (broken)" in err.getvalue()
    assert "client secret" in err.getvalue()
    assert_no_secret(err.getvalue() + str(excinfo.value))
    fine.refresh_from_db()
    assert crypto.key_id_of(fine.client_secret_encrypted) == "b"
    broken.refresh_from_db()
    assert crypto.key_id_of(broken.account_secret_encrypted) == "a"  # untouched


def test_rotate_keys_without_a_key_explains(settings, monkeypatch):
    with_keys(settings)
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)
    with pytest.raises(CommandError, match="No EasyCars encryption key is configured"):
        run("easycars_rotate_keys")


# easycars_demo ----------------------------------------------------------------------------------


def test_demo_seeds_a_dealership_admin_and_sandbox_credentials():
    output = run("easycars_demo")
    dealership = Dealership.objects.get(slug="demo-motors")
    site = Site.objects.get(is_default_site=True)
    assert dealership.site == site
    assert (site.hostname, site.port) == ("127.0.0.1", 8000)  # page URLs point at the running demo
    credential = dealership.easycars_credential
    assert {field: getattr(credential, field) for field in SANDBOX_ACCOUNT} == SANDBOX_ACCOUNT
    assert credential.environment == "test"
    user = authenticate(username="admin", password="changeme")
    assert user is not None
    assert user.is_superuser
    assert DealershipMembership.objects.get(user=user, dealership=dealership).role == "admin"
    assert "Login: admin / changeme" in output
    assert "http://127.0.0.1:8000/admin/" in output
    assert SANDBOX_ACCOUNT["account_secret"] not in output
    assert SANDBOX_ACCOUNT["client_secret"] not in output


def test_demo_can_run_twice():
    run("easycars_demo")
    output = run("easycars_demo", "--password", "another-pass")
    assert Dealership.objects.count() == 1
    assert EasyCarsCredential.objects.count() == 1
    assert DealershipMembership.objects.count() == 1
    assert len(log_entries("wagtail_easycars.credentials.set")) == 1  # unchanged credentials are left alone
    assert authenticate(username="admin", password="another-pass") is not None
    assert "Login: admin / another-pass" in output
    model = showroom_page_model()
    if model is not None:
        assert model.objects.count() == 1


def test_demo_repairs_credentials_it_can_no_longer_decrypt(settings):
    run("easycars_demo")
    with_keys(settings, newer=KEY_B)
    run("easycars_demo")
    credential = EasyCarsCredential.objects.get()
    assert credential.account_secret == SANDBOX_ACCOUNT["account_secret"]


def test_demo_creates_a_vehicles_page_when_the_site_has_a_showroom_page_type():
    model = showroom_page_model()
    if model is None:
        pytest.skip("No showroom page type is installed in the test project.")
    run("easycars_demo")
    page = model.objects.get()
    assert page.title == "Vehicles"
    assert page.live
    assert page.get_parent().pk == Site.objects.get(is_default_site=True).root_page_id


def test_demo_rejects_a_site_url_that_is_not_http():
    with pytest.raises(CommandError, match="--site-url must be an http"):
        run("easycars_demo", "--site-url", "127.0.0.1:8000")
    assert not Dealership.objects.exists()


def test_demo_credentials_are_the_sandboxes_first_account():
    from wagtail_easycars.sandbox.state import make_account

    account = make_account(1)
    assert {field: getattr(account, field) for field in SANDBOX_ACCOUNT} == SANDBOX_ACCOUNT


def test_demo_credentials_work_against_the_sandbox(sandbox_settings):
    run("easycars_demo")
    assert "both credential pairs work" in credentials("test", "--dealership", "demo-motors")


# easycars_sandbox -------------------------------------------------------------------------------


def test_sandbox_command_passes_its_options_to_the_sandbox():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "easycars_sandbox", "--port", "0", "--stock", "3", "--accounts", "2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output = b""
    deadline = time.monotonic() + 60
    try:
        # Read raw bytes until the start-up banner (4 lines) is complete; never block past the deadline.
        while output.count(b"\n") < 4 and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    break
                output += chunk
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    lines = output.decode().splitlines()
    assert len(lines) >= 4, (output, err)
    assert lines[0].startswith("EasyCars sandbox on http://127.0.0.1:")
    assert not lines[0].endswith(":0")
    assert "BASE_URLS test:" in lines[1]
    assert "sandbox-dealer-2" in lines[3]
