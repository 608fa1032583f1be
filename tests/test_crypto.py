"""AES-256-GCM keyring: round trip, nonces, tampering, associated data, rotation and key errors."""

import base64

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import CredentialFactory, DealershipFactory
from wagtail_easycars import crypto
from wagtail_easycars.models import EasyCarsCredential
from wagtail_easycars.models.credentials import SECRET_FIELDS

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
AAD = "wagtail_easycars:credential:1:client_secret"
SECRET = "9f8e7d6c-5b4a-3210-fedc-ba9876543210"


@pytest.fixture
def keys(settings):
    """Set the keyring: ``keys("a", "b")`` configures KEY_A as "a" and KEY_B as "b" (the last one writes)."""

    def configure(*ids):
        values = {"a": KEY_A, "b": KEY_B}
        settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {kid: values[kid] for kid in ids}}

    return configure


@pytest.fixture
def no_keys(settings, monkeypatch):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {}}
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)


def flip_byte(token, index=-1):
    version, key_id, body = token.split(":", 2)
    blob = bytearray(base64.b64decode(body))
    blob[index] ^= 0x01
    return f"{version}:{key_id}:{base64.b64encode(bytes(blob)).decode()}"


def test_encrypted_value_decrypts_to_the_plaintext(keys):
    keys("a")
    token = crypto.encrypt(SECRET, AAD)
    assert SECRET not in token
    assert token.startswith("v1:a:")
    assert crypto.decrypt(token, AAD) == SECRET


@hypothesis_settings(max_examples=50, deadline=None)
@given(plaintext=st.text(max_size=200))
def test_any_text_survives_the_round_trip(plaintext):
    # Uses the test settings' key ("test-1"); hypothesis cannot share pytest-django's settings fixture.
    assert crypto.decrypt(crypto.encrypt(plaintext, AAD), AAD) == plaintext


def test_each_encryption_uses_a_fresh_nonce(keys):
    keys("a")
    tokens = {crypto.encrypt(SECRET, AAD) for _ in range(20)}
    nonces = {base64.b64decode(token.split(":", 2)[2])[:12] for token in tokens}
    assert len(tokens) == 20
    assert len(nonces) == 20


@pytest.mark.parametrize("index", [0, 11, 12, -1], ids=["nonce-start", "nonce-end", "ciphertext", "tag"])
def test_a_tampered_value_is_rejected(keys, index):
    keys("a")
    tampered = flip_byte(crypto.encrypt(SECRET, AAD), index)
    with pytest.raises(crypto.SecretDecryptionError, match="authentication failed") as excinfo:
        crypto.decrypt(tampered, AAD, context="the client secret of dealership 7")
    assert "dealership 7" in str(excinfo.value)
    assert SECRET not in str(excinfo.value)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "not in a known format"),
        ("plaintext-secret", "not in a known format"),
        ("v2:a:AAAA", "not in a known format"),
        ("v1:a:not base64!", "corrupted"),
        ("v1:a:" + base64.b64encode(b"short").decode(), "truncated"),
    ],
)
def test_a_malformed_stored_value_is_reported_not_returned(keys, token, message):
    keys("a")
    with pytest.raises(crypto.SecretDecryptionError, match=message):
        crypto.decrypt(token, AAD)


def test_a_value_is_bound_to_its_associated_data(keys):
    keys("a")
    token = crypto.encrypt(SECRET, AAD)
    with pytest.raises(crypto.SecretDecryptionError):
        crypto.decrypt(token, AAD.replace("client_secret", "account_secret"))


@pytest.mark.django_db
def test_a_secret_copied_to_another_dealership_fails_to_decrypt():
    first = CredentialFactory(client_secret=SECRET)
    second = CredentialFactory()
    second.client_secret_encrypted = first.client_secret_encrypted
    second.save()
    second = EasyCarsCredential.objects.get(pk=second.pk)
    with pytest.raises(crypto.SecretDecryptionError) as excinfo:
        second.client_secret  # noqa: B018
    assert f"dealership {second.dealership_id}" in str(excinfo.value)
    assert SECRET not in str(excinfo.value)


@pytest.mark.django_db
def test_a_secret_copied_to_another_field_fails_to_decrypt():
    credential = CredentialFactory(client_secret=SECRET)
    credential.account_secret_encrypted = credential.client_secret_encrypted
    with pytest.raises(crypto.SecretDecryptionError, match="account secret"):
        credential.account_secret  # noqa: B018


@pytest.mark.django_db
def test_secrets_cannot_be_set_before_the_dealership_is_known():
    with pytest.raises(ValueError, match="Assign the dealership"):
        EasyCarsCredential().client_secret = SECRET


def test_new_values_use_the_newest_key_and_old_values_still_decrypt(keys):
    keys("a")
    old = crypto.encrypt(SECRET, AAD)
    keys("a", "b")
    new = crypto.encrypt(SECRET, AAD)
    assert crypto.key_id_of(old) == "a"
    assert crypto.key_id_of(new) == "b"
    assert crypto.decrypt(old, AAD) == crypto.decrypt(new, AAD) == SECRET


def test_a_value_made_with_a_removed_key_names_that_key(keys):
    keys("a")
    token = crypto.encrypt(SECRET, AAD)
    keys("b")
    with pytest.raises(crypto.SecretDecryptionError, match="key 'a', which is not configured"):
        crypto.decrypt(token, AAD)


def test_the_same_key_id_with_another_key_fails_authentication(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {"k": KEY_A}}
    token = crypto.encrypt(SECRET, AAD)
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {"k": KEY_B}}
    with pytest.raises(crypto.SecretDecryptionError, match="authentication failed"):
        crypto.decrypt(token, AAD)


@pytest.mark.django_db
def test_rotate_encryption_moves_every_secret_to_the_newest_key(keys):
    keys("a")
    credential = CredentialFactory(client_secret=SECRET)
    keys("a", "b")
    assert credential.rotate_encryption() is True
    credential.save()
    keys("b")
    credential = EasyCarsCredential.objects.get(pk=credential.pk)
    assert credential.client_secret == SECRET
    assert credential.account_number == "EC000001"
    assert {crypto.key_id_of(getattr(credential, f"{f}_encrypted")) for f in ("client_id", "account_secret")} == {"b"}
    assert credential.rotate_encryption() is False


def test_the_environment_variable_provides_a_single_key(no_keys, monkeypatch):
    monkeypatch.setenv(crypto.ENV_VAR, KEY_A)
    token = crypto.encrypt(SECRET, AAD)
    assert crypto.key_id_of(token) == crypto.ENV_KEY_ID
    assert crypto.decrypt(token, AAD) == SECRET


def test_settings_keys_win_over_the_environment_variable(keys, monkeypatch):
    keys("a")
    monkeypatch.setenv(crypto.ENV_VAR, KEY_B)
    assert list(crypto.load_keyring()) == ["a"]


def test_a_missing_key_says_what_to_set(no_keys):
    with pytest.raises(crypto.EncryptionKeyError) as excinfo:
        crypto.encrypt(SECRET, AAD)
    message = str(excinfo.value)
    assert "EASYCARS_ENCRYPTION_KEY" in message
    assert "ENCRYPTION_KEYS" in message
    assert "os.urandom(32)" in message


@pytest.mark.django_db
def test_reading_a_secret_without_a_key_raises_a_clear_error(settings, monkeypatch):
    credential = CredentialFactory()
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {}}
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)
    with pytest.raises(crypto.EncryptionKeyError, match="No EasyCars encryption key"):
        credential.client_secret  # noqa: B018


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"x" * 16).decode(), "decodes to 16 bytes; AES-256 needs exactly 32"),
        (base64.b64encode(b"x" * 33).decode(), "decodes to 33 bytes"),
        ("", "is empty"),
    ],
    ids=["malformed", "short", "long", "empty"],
)
def test_a_bad_key_in_settings_is_explained(settings, value, message):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {"old": KEY_A, "new": value}}
    with pytest.raises(crypto.EncryptionKeyError, match=message) as excinfo:
        crypto.load_keyring()
    assert "'new'" in str(excinfo.value)
    assert "os.urandom(32)" in str(excinfo.value) or "empty" in message


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"x" * 16).decode()], ids=["malformed", "short"])
def test_a_bad_key_in_the_environment_is_explained(no_keys, monkeypatch, value):
    monkeypatch.setenv(crypto.ENV_VAR, value)
    with pytest.raises(crypto.EncryptionKeyError, match="Encryption key 'env'"):
        crypto.load_keyring()


def test_an_invalid_key_id_is_rejected(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {"bad:id": KEY_A}}
    with pytest.raises(crypto.EncryptionKeyError, match="key id 'bad:id' is invalid"):
        crypto.load_keyring()


def test_keys_must_be_a_dict(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": [KEY_A]}
    with pytest.raises(crypto.EncryptionKeyError, match="must be a dict"):
        crypto.load_keyring()


@pytest.mark.django_db
def test_key_errors_never_include_the_key_material(settings):
    short = base64.b64encode(b"secret-key-material").decode()
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {"k": short}}
    with pytest.raises(crypto.EncryptionKeyError) as excinfo:
        CredentialFactory(dealership=DealershipFactory())
    assert short not in str(excinfo.value)


# A process whose key cannot read the stored values writes all four under one key, or nothing --


def stored_tokens(credential):
    return [getattr(credential, f"{field}_encrypted") for field in SECRET_FIELDS]


@pytest.fixture
def credential_under_key_a(keys):
    keys("a")
    credential = CredentialFactory(client_secret=SECRET)
    return EasyCarsCredential.objects.get(pk=credential.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("wrong", ["same id, other key", "other id"])
def test_a_key_that_cannot_read_the_stored_values_refuses_a_partial_write(settings, credential_under_key_a, wrong):
    before = stored_tokens(credential_under_key_a)
    keyring = {"a": KEY_B} if wrong == "same id, other key" else {"b": KEY_B}
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": keyring}
    with pytest.raises(crypto.SecretDecryptionError):
        credential_under_key_a.set_secrets(client_secret="11111111-2222-3333-4444-555555555555")
    with pytest.raises(crypto.SecretDecryptionError):
        credential_under_key_a.account_secret = "11111111-2222-3333-4444-555555555555"
    assert stored_tokens(credential_under_key_a) == before


@pytest.mark.django_db
def test_all_four_values_replace_unreadable_ones_under_the_current_key(keys, credential_under_key_a):
    keys("b")
    credential_under_key_a.set_secrets(
        client_id="id-2", client_secret="secret-2", account_number="EC000002", account_secret="account-secret-2"
    )
    credential_under_key_a.save()
    credential = EasyCarsCredential.objects.get(pk=credential_under_key_a.pk)
    assert {crypto.key_id_of(token) for token in stored_tokens(credential)} == {"b"}
    assert credential.read_secrets() == {
        "client_id": "id-2",
        "client_secret": "secret-2",
        "account_number": "EC000002",
        "account_secret": "account-secret-2",
    }
    assert credential.account_number_last4 == "0002"


@pytest.mark.django_db
def test_a_partial_write_moves_the_kept_values_to_the_newest_key_too(keys, credential_under_key_a):
    keys("a", "b")
    credential_under_key_a.set_secrets(client_secret="secret-2")
    assert {crypto.key_id_of(token) for token in stored_tokens(credential_under_key_a)} == {"b"}
    keys("b")
    assert credential_under_key_a.client_secret == "secret-2"
    assert credential_under_key_a.account_number == "EC000001"


@pytest.mark.django_db
def test_unreadable_secret_error_names_the_field_never_the_value(keys, credential_under_key_a):
    assert credential_under_key_a.unreadable_secret_error() is None
    keys("b")
    error = credential_under_key_a.unreadable_secret_error()
    assert "key 'a', which is not configured" in str(error)
    assert SECRET not in str(error)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value", ["\ud800", "abc\x00def", "abc\x1bdef", "abc\u200bdef", "abc def", "abc\ufffd"], ids=repr
)
def test_control_characters_spaces_and_surrogates_are_never_stored(credential_under_key_a, value):
    before = stored_tokens(credential_under_key_a)
    with pytest.raises(ValueError, match="The EasyCars client secret was not saved") as excinfo:
        credential_under_key_a.set_secrets(client_secret=value)
    assert value not in str(excinfo.value)
    assert stored_tokens(credential_under_key_a) == before
