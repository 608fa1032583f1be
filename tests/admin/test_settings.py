"""The EasyCars settings screen: test without saving, save rules, secrets never echoed, pause, delete, audit log."""

import pytest
from wagtail.log_actions import registry as log_registry

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
