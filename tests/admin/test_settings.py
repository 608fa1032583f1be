"""The EasyCars settings screen: test without saving, save rules, secrets never echoed, pause, delete, audit log."""

import base64
import html
import json

import pytest
from wagtail.log_actions import registry as log_registry

from wagtail_easycars import crypto
from wagtail_easycars.admin.forms import CredentialForm
from wagtail_easycars.models import EasyCarsCredential

from ..easycars_admin_support import assert_no_secrets
from ..factories import CredentialFactory, DealershipFactory

pytestmark = pytest.mark.django_db

URL = "/admin/easycars/settings/"


def form_data(account, **overrides):
    data = {
        "environment": "test",
        "client_id": account.client_id,
        "client_secret": account.client_secret,
        "account_number": account.account_number,
        "account_secret": account.account_secret,
        "yard_code": "",
    }
    data.update(overrides)
    return data


def actions(dealership):
    return list(log_registry.get_logs_for_instance(dealership).order_by("pk").values_list("action", flat=True))


def test_unconfigured_dealership_gets_an_empty_connection_form(admin_of):
    dealership = DealershipFactory()
    response = admin_of(dealership).get(URL)
    assert response.status_code == 200
    assert "Connect to EasyCars" in response.content.decode()
    assert 'name="client_secret"' in response.content.decode()


def test_saved_credentials_show_only_metadata_and_never_the_secrets(admin_of):
    dealership = DealershipFactory()
    client = admin_of(dealership)
    CredentialFactory(dealership=dealership, updated_by=client.user)
    response = client.get(URL)
    html = response.content.decode()
    assert "…0001" in html
    assert client.user.get_username() in html
    assert "Leave a field blank to keep its saved value" in html
    assert_no_secrets(response)


def test_connection_test_with_good_credentials_succeeds_without_saving(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    response = admin_of(dealership).post(URL, {**form_data(sandbox_settings.account), "action": "test"})
    assert response.status_code == 200
    assert "both credential pairs were accepted" in response.content.decode()
    assert not EasyCarsCredential.objects.filter(dealership=dealership).exists()


def test_connection_test_never_renders_the_typed_secrets_back(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    response = admin_of(dealership).post(URL, {**form_data(sandbox_settings.account), "action": "test"})
    assert_no_secrets(response, sandbox_settings.account.account_secret, sandbox_settings.account.client_secret)


def test_connection_test_names_the_rejected_account_pair(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    data = form_data(sandbox_settings.account, account_secret="11111111-2222-3333-4444-555555555555")
    response = admin_of(dealership).post(URL, {**data, "action": "test"})
    assert "rejected the Account Number or the Account Secret" in response.content.decode()


def test_connection_test_names_the_rejected_client_pair(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    data = form_data(sandbox_settings.account, client_secret="11111111-2222-3333-4444-555555555555")
    response = admin_of(dealership).post(URL, {**data, "action": "test"})
    assert "rejected the Client ID or the Client Secret" in response.content.decode()


def test_connection_test_is_recorded_in_the_audit_log(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    admin_of(dealership).post(URL, {**form_data(sandbox_settings.account), "action": "test"})
    entry = log_registry.get_logs_for_instance(dealership).get()
    assert (entry.action, entry.data) == ("wagtail_easycars.credentials.test", {"ok": True, "failed_pair": None})


def test_save_is_refused_without_a_test_or_the_save_without_testing_box(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    response = admin_of(dealership).post(URL, {**form_data(sandbox_settings.account), "action": "save"})
    assert "Test the connection first" in response.content.decode()
    assert not EasyCarsCredential.objects.filter(dealership=dealership).exists()


def test_save_after_a_successful_test_stores_the_encrypted_credentials(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    client = admin_of(dealership)
    data = form_data(sandbox_settings.account)
    client.post(URL, {**data, "action": "test"})
    response = client.post(URL, {**data, "action": "save"})
    assert response.status_code == 302
    credential = EasyCarsCredential.objects.get(dealership=dealership)
    assert (credential.account_secret, credential.updated_by) == (data["account_secret"], client.user)


def test_a_test_of_other_values_does_not_allow_saving_these(admin_of, sandbox_settings):
    dealership = DealershipFactory()
    client = admin_of(dealership)
    client.post(URL, {**form_data(sandbox_settings.account), "action": "test"})
    changed = form_data(sandbox_settings.account, account_secret="99999999-0000-0000-0000-000000000000")
    client.post(URL, {**changed, "action": "save"})
    assert not EasyCarsCredential.objects.filter(dealership=dealership).exists()


def test_save_without_testing_box_saves_and_says_so_in_the_audit_log(admin_of):
    dealership = DealershipFactory()
    client = admin_of(dealership)
    data = form_data(
        CredentialFactory.build(dealership=dealership),
        save_without_testing="on",
        account_secret="NEW-ACCOUNT-SECRET-9a7e",
    )
    client.post(URL, {**data, "action": "save"})
    entry = log_registry.get_logs_for_instance(dealership).get(action="wagtail_easycars.credentials.set")
    assert entry.data["tested"] is False
    assert "NEW-ACCOUNT-SECRET-9a7e" not in str(entry.data)


def test_blank_secrets_on_edit_keep_the_stored_values(admin_of):
    dealership = DealershipFactory()
    credential = CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    data = {"environment": "test", "yard_code": "MAIN", "save_without_testing": "on", "action": "save"}
    client.post(URL, data)
    credential.refresh_from_db()
    assert (credential.account_secret, credential.client_secret, credential.yard_code) == (
        "00000000-0000-0000-0000-000000000003",
        "00000000-0000-0000-0000-000000000002",
        "MAIN",
    )


def test_a_new_secret_on_edit_replaces_only_that_secret(admin_of):
    dealership = DealershipFactory()
    credential = CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    data = {"environment": "test", "client_secret": "NEW-CLIENT-SECRET-5d1c", "save_without_testing": "on"}
    client.post(URL, {**data, "action": "save"})
    credential.refresh_from_db()
    assert (credential.client_secret, credential.account_number) == ("NEW-CLIENT-SECRET-5d1c", "EC000001")


def test_edit_with_invalid_data_shows_errors_without_the_secrets(admin_of):
    dealership = DealershipFactory()
    CredentialFactory(dealership=dealership)
    response = admin_of(dealership).post(
        URL,
        {"environment": "moon", "client_secret": "NEW-CLIENT-SECRET-5d1c", "save_without_testing": "on"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert_no_secrets(response)


def test_pause_and_resume_toggle_syncing_and_are_logged(admin_of):
    dealership = DealershipFactory()
    credential = CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    client.post(URL + "pause/")
    credential.refresh_from_db()
    assert credential.is_active is False
    client.post(URL + "resume/")
    credential.refresh_from_db()
    assert credential.is_active is True
    assert actions(dealership) == ["wagtail_easycars.credentials.pause", "wagtail_easycars.credentials.resume"]


def test_pause_is_post_only(admin_of):
    dealership = DealershipFactory()
    CredentialFactory(dealership=dealership)
    assert admin_of(dealership).get(URL + "pause/").status_code == 405


def test_delete_asks_for_confirmation_first(admin_of):
    dealership = DealershipFactory()
    CredentialFactory(dealership=dealership)
    response = admin_of(dealership).get(URL + "delete/")
    assert "Yes, delete the credentials" in response.content.decode()
    assert EasyCarsCredential.objects.filter(dealership=dealership).exists()


def test_confirmed_delete_removes_the_credentials_and_is_logged(admin_of):
    dealership = DealershipFactory()
    CredentialFactory(dealership=dealership)
    admin_of(dealership).post(URL + "delete/")
    assert not EasyCarsCredential.objects.filter(dealership=dealership).exists()
    assert actions(dealership) == ["wagtail_easycars.credentials.delete"]


def test_changes_show_in_the_page_history(admin_of):
    dealership = DealershipFactory()
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    client.post(URL + "pause/")
    response = client.get(URL)
    assert "Paused EasyCars syncing" in response.content.decode()


def test_users_without_manage_credentials_cannot_open_settings(admin_of):
    dealership = DealershipFactory()
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_sync_status"))
    response = client.get(URL)
    assert response.status_code == 302  # Wagtail's "permission denied": back to the dashboard with a message


def test_users_without_manage_credentials_cannot_save(admin_of):
    dealership = DealershipFactory()
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_sync_status"))
    client.post(URL, {**form_data(CredentialFactory.build(dealership=dealership)), "save_without_testing": "on"})
    assert not EasyCarsCredential.objects.filter(dealership=dealership).exists()


# A key that cannot read the stored credentials -------------------------------------------------

API = "/admin/easycars/api/"
UNREADABLE = "The stored credentials cannot be read with this site's encryption key"
OTHER_KEY = base64.b64encode(b"o" * 32).decode()
NEW_VALUES = {
    "client_id": "11111111-0000-0000-0000-000000000001",
    "client_secret": "11111111-0000-0000-0000-000000000002",
    "account_number": "EC000077",
    "account_secret": "11111111-0000-0000-0000-000000000003",
}


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def tokens(credential):
    credential.refresh_from_db()
    return [getattr(credential, f"{name}_encrypted") for name in NEW_VALUES]


@pytest.fixture
def wrong_key(settings):
    """Credentials stored under the test key, then a site whose key (same id) is another one."""
    credential = CredentialFactory(dealership=DealershipFactory())
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {"test-1": OTHER_KEY}}
    return credential


def test_a_partial_save_under_a_wrong_key_is_refused_with_a_clear_message(admin_of, wrong_key):
    before = tokens(wrong_key)
    data = {"environment": "test", "client_secret": NEW_VALUES["client_secret"], "save_without_testing": "on"}
    response = admin_of(wrong_key.dealership).post(URL, {**data, "action": "save"})
    assert response.status_code == 200
    assert UNREADABLE in html.unescape(response.content.decode())
    assert "docs/keys.md" in response.content.decode()
    assert tokens(wrong_key) == before


def test_a_connection_test_under_a_wrong_key_shows_the_message_not_a_500(admin_of, wrong_key):
    response = admin_of(wrong_key.dealership).post(URL, {"environment": "test", "action": "test"})
    assert response.status_code == 200
    assert UNREADABLE in html.unescape(response.content.decode())


def test_all_four_values_under_a_wrong_key_replace_the_stored_ones(admin_of, wrong_key):
    data = {"environment": "test", **NEW_VALUES, "save_without_testing": "on", "action": "save"}
    response = admin_of(wrong_key.dealership).post(URL, data)
    assert response.status_code == 302
    credential = EasyCarsCredential.objects.get(pk=wrong_key.pk)
    assert credential.read_secrets() == NEW_VALUES
    assert {crypto.key_id_of(token) for token in tokens(credential)} == {"test-1"}


@pytest.mark.parametrize("endpoint", ["credentials/test/", "credentials/"])
def test_the_json_endpoints_answer_a_wrong_key_with_json(admin_of, wrong_key, endpoint):
    before = tokens(wrong_key)
    data = {"environment": "test", "account_secret": NEW_VALUES["account_secret"], "save_without_testing": True}
    response = post_json(admin_of(wrong_key.dealership), API + endpoint, data)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "credentials_unreadable"
    assert response.json()["message"].startswith(UNREADABLE)
    assert tokens(wrong_key) == before


def test_an_error_the_form_did_not_foresee_is_still_json(admin_of, monkeypatch, caplog):
    """A decryption error past the form's checks is a JSON 409; anything else a logged JSON 500."""
    client = admin_of(CredentialFactory(dealership=DealershipFactory()).dealership)

    def unreadable(form):
        raise crypto.SecretDecryptionError("Cannot decrypt the EasyCars client id of dealership 1: ...")

    monkeypatch.setattr(CredentialForm, "effective_account", unreadable)
    response = post_json(client, API + "credentials/test/", {"environment": "test"})
    assert (response.status_code, response.json()["code"]) == (409, "credentials_unreadable")
    assert response.json()["message"].startswith(UNREADABLE)

    monkeypatch.setattr(CredentialForm, "effective_account", lambda form: 1 / 0)
    response = post_json(client, API + "credentials/test/", {"environment": "test"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"
    assert any(record.name == "django.request" and record.exc_info for record in caplog.records)


# Characters no credential has ------------------------------------------------------------------

BAD_VALUES = ["\ud800", "abc\x00def", "abc\x07def", "abc\u200bdef", "EC 0001"]


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
@pytest.mark.parametrize("field", ["client_id", "account_secret"])
def test_a_bad_character_in_a_credential_is_a_json_400(admin_of, field, value):
    dealership = DealershipFactory()
    data = {"environment": "test", **NEW_VALUES, field: value, "save_without_testing": True}
    client = admin_of(dealership)
    for endpoint in ("credentials/test/", "credentials/"):
        response = post_json(client, API + endpoint, data)
        assert (response.status_code, response.json()["code"]) == (400, "invalid")
        assert field in response.json()["errors"]
    assert not EasyCarsCredential.objects.exists()


@pytest.mark.parametrize("value", [v for v in BAD_VALUES if v != "\ud800"] + ["abc\ufffd"], ids=repr)
def test_a_bad_character_in_the_html_form_is_a_form_error(admin_of, value):
    dealership = DealershipFactory()
    data = {"environment": "test", **NEW_VALUES, "client_secret": value, "save_without_testing": "on"}
    client = admin_of(dealership)
    for action in ("test", "save"):
        response = client.post(URL, {**data, "action": action})
        assert response.status_code == 200
        assert "Remove the" in html.unescape(response.content.decode())
    assert not EasyCarsCredential.objects.exists()


def test_a_control_character_in_the_yard_code_is_a_form_error(admin_of):
    dealership = DealershipFactory()
    data = {"environment": "test", **NEW_VALUES, "yard_code": "MAIN\x1b", "save_without_testing": True}
    response = post_json(admin_of(dealership), API + "credentials/", data)
    assert (response.status_code, list(response.json()["errors"])[:1]) == (400, ["yard_code"])


def test_the_settings_page_says_when_the_stored_credentials_cannot_be_read(admin_of, wrong_key):
    response = admin_of(wrong_key.dealership).get(URL)
    assert response.status_code == 200
    assert UNREADABLE in html.unescape(response.content.decode())


def test_the_settings_page_says_when_no_key_is_configured(admin_of, settings, monkeypatch):
    credential = CredentialFactory(dealership=DealershipFactory())
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ENCRYPTION_KEYS": {}}
    monkeypatch.delenv(crypto.ENV_VAR, raising=False)
    response = admin_of(credential.dealership).get(URL)
    assert response.status_code == 200
    assert "No EasyCars encryption key is configured" in response.content.decode()


def test_the_settings_page_is_quiet_when_the_credentials_read(admin_of):
    credential = CredentialFactory(dealership=DealershipFactory())
    response = admin_of(credential.dealership).get(URL)
    assert UNREADABLE not in html.unescape(response.content.decode())
