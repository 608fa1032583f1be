"""System checks: a misconfiguration is reported by `manage.py check` with what exactly to set."""

import base64

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from wagtail_easycars import checks, crypto


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


def test_the_test_settings_pass_every_check():
    call_command("check", fail_level="WARNING")
