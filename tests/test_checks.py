"""System checks: a misconfiguration is reported by `manage.py check` with what exactly to set."""

import base64
import io

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import OperationalError

from tests.factories import CredentialFactory, DealershipFactory
from wagtail_easycars import checks, crypto
from wagtail_easycars.models import EasyCarsCredential


def messages(check, level_id=None):
    found = check(None)
    return [m for m in found if level_id is None or m.id == level_id]


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)


def with_keys(settings, keys):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": keys}


def test_a_configured_key_passes(settings):
    assert messages(checks.check_encryption_keys) == []


def test_a_missing_key_is_an_error_that_says_what_to_set(settings, no_env_key):
    with_keys(settings, {})
    [error] = messages(checks.check_encryption_keys)
    assert error.id == "wagtail_easycars.E001"
    assert error.is_serious()
    assert "Set the EASYCARS_ENCRYPTION_KEY environment variable to the base64 of 32 random bytes" in error.msg
    assert 'WAGTAIL_EASYCARS["ENCRYPTION_KEYS"]' in error.msg
    assert 'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"' in error.msg


def test_a_malformed_key_is_an_error_naming_the_key(settings):
    with_keys(settings, {"2024-01": "this is not base64"})
    [error] = messages(checks.check_encryption_keys)
    assert error.id == "wagtail_easycars.E001"
    assert "Encryption key '2024-01' is not valid base64" in error.msg
    assert "base64 of 32 random bytes" in error.msg
    assert "os.urandom(32)" in error.msg


def test_a_short_key_is_an_error_giving_its_length(settings):
    with_keys(settings, {"k1": base64.b64encode(b"0123456789abcdef").decode()})
    [error] = messages(checks.check_encryption_keys)
    assert "Encryption key 'k1' decodes to 16 bytes; AES-256 needs exactly 32" in error.msg
    assert "os.urandom(32)" in error.msg


def test_a_bad_environment_key_is_reported(settings, monkeypatch):
    with_keys(settings, {})
    monkeypatch.setenv(crypto.ENV_VAR, base64.b64encode(b"short").decode())
    [error] = messages(checks.check_encryption_keys)
    assert "Encryption key 'env' decodes to 5 bytes" in error.msg


def test_manage_py_check_fails_without_a_key(settings, no_env_key):
    with_keys(settings, {})
    with pytest.raises(SystemCheckError, match="EASYCARS_ENCRYPTION_KEY"):
        call_command("check")


@pytest.mark.parametrize(("timeout", "retry"), [(60, 60), (900, 300)], ids=["equal", "smaller"])
def test_retry_not_above_timeout_is_a_warning(settings, timeout, retry):
    settings.Q_CLUSTER = {**django_settings.Q_CLUSTER, "timeout": timeout, "retry": retry}
    [warning] = messages(checks.check_settings, "wagtail_easycars.W002")
    assert f"Q_CLUSTER['retry'] ({retry}) must be larger than Q_CLUSTER['timeout'] ({timeout})" in warning.msg
    assert "runs twice" in warning.hint or "run twice" in warning.hint
    assert not warning.is_serious()


def test_retry_above_timeout_passes(settings):
    settings.Q_CLUSTER = {**django_settings.Q_CLUSTER, "timeout": 900, "retry": 1200}
    assert messages(checks.check_settings, "wagtail_easycars.W002") == []


def test_unknown_settings_keys_are_named(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "BASE_URL": "https://example.com"}
    [warning] = messages(checks.check_settings, "wagtail_easycars.W001")
    assert "BASE_URL" in warning.msg


def test_base_urls_need_both_environments(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "BASE_URLS": {"test": "http://127.0.0.1:1"}}
    [error] = messages(checks.check_settings, "wagtail_easycars.E003")
    assert '"test" and "production"' in error.msg


def test_django_q_must_be_installed(monkeypatch):
    # Changed on the settings object directly: a real INSTALLED_APPS change would reload the app registry.
    installed = [app for app in django_settings.INSTALLED_APPS if app != "django_q"]
    monkeypatch.setattr(django_settings, "INSTALLED_APPS", installed)
    [error] = messages(checks.check_settings, "wagtail_easycars.E004")
    assert '"django_q"' in error.msg
    assert "INSTALLED_APPS" in error.hint


@pytest.mark.parametrize("backend", ["locmem.LocMemCache", "dummy.DummyCache"])
def test_a_per_process_cache_is_a_warning_outside_debug(settings, backend):
    settings.CACHES = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}
    [warning] = messages(checks.check_settings, "wagtail_easycars.W003")
    assert "not shared between the site and the workers" in warning.msg
    assert "Redis" in warning.hint
    settings.DEBUG = True
    assert messages(checks.check_settings, "wagtail_easycars.W003") == []


def test_a_shared_cache_passes(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert messages(checks.check_settings, "wagtail_easycars.W003") == []


def test_the_cache_alias_must_name_a_configured_cache(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "CACHE_ALIAS": "easycars"}
    [error] = messages(checks.check_settings, "wagtail_easycars.E005")
    assert "'easycars', which is not in CACHES" in error.msg


@pytest.mark.django_db
def test_the_test_settings_pass_every_check():
    CredentialFactory()
    call_command("check", fail_level="WARNING")


# W004: stored credentials these keys cannot read ---------------------------------------------

OTHER_KEY = base64.b64encode(b"o" * 32).decode()


@pytest.mark.django_db
def test_readable_credentials_pass(settings):
    CredentialFactory()
    assert messages(checks.check_stored_credentials) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("keys", "why"),
    [
        ({"other": OTHER_KEY}, "written with key 'test-1', which is not configured"),
        ({"test-1": OTHER_KEY}, "the client id does not decrypt: the key configured under its id is another key"),
    ],
    ids=["key missing", "key replaced"],
)
def test_credentials_the_keys_cannot_read_are_a_warning_naming_the_dealership(settings, keys, why):
    credential = CredentialFactory(dealership=DealershipFactory(slug="north"))
    CredentialFactory(dealership=DealershipFactory(slug="south"))
    with_keys(settings, keys)
    [warning] = messages(checks.check_stored_credentials)
    assert warning.id == "wagtail_easycars.W004"
    assert not warning.is_serious()
    assert f"credentials of 2 dealership(s): north ({why}); south" in warning.msg
    assert "docs/keys.md" in warning.hint
    for value in ("00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003"):
        assert value not in warning.msg + warning.hint
    assert credential.client_secret_encrypted not in warning.msg


@pytest.mark.django_db
def test_a_value_in_no_known_format_is_named(settings):
    credential = CredentialFactory(dealership=DealershipFactory(slug="north"))
    EasyCarsCredential.objects.filter(pk=credential.pk).update(account_secret_encrypted="plaintext-by-mistake")
    [warning] = messages(checks.check_stored_credentials)
    assert "north (a value is not in a known format)" in warning.msg
    assert "plaintext-by-mistake" not in warning.msg


@pytest.mark.django_db
def test_the_check_reads_a_bounded_number_of_rows_and_decrypts_one_value_each(settings, monkeypatch):
    for slug in ("a", "b", "c"):
        CredentialFactory(dealership=DealershipFactory(slug=slug))
    with_keys(settings, {"test-1": OTHER_KEY})
    monkeypatch.setattr(checks, "CREDENTIAL_CHECK_LIMIT", 2)
    calls = []
    decrypt = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda *args, **kwargs: calls.append(1) or decrypt(*args, **kwargs))
    [warning] = messages(checks.check_stored_credentials)
    assert "of 2 dealership(s): a (" in warning.msg
    assert len(calls) == 2


def test_without_a_database_to_read_the_check_passes(monkeypatch):
    def no_table(keyring):
        raise OperationalError("no such table: wagtail_easycars_easycarscredential")

    monkeypatch.setattr(checks, "_unreadable_credentials", no_table)
    assert messages(checks.check_stored_credentials) == []


@pytest.mark.django_db
def test_manage_py_check_shows_the_warning(settings):
    CredentialFactory(dealership=DealershipFactory(slug="north"))
    with_keys(settings, {"other": OTHER_KEY})
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)
    assert "wagtail_easycars.W004" in out.getvalue() + err.getvalue()
