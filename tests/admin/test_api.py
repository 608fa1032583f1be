"""The JSON endpoints: credentials (never secrets), connection test, triggers, status, logs; errors as JSON."""

import datetime as dt
import json

import pytest
from django.test import Client

from wagtail_easycars.models import EasyCarsCredential, SyncLog
from wagtail_easycars.sync.runs import RunRecorder

from ..easycars_admin_support import assert_no_secrets, make_sync_admin
from ..factories import CredentialFactory, DealershipFactory, SyncLogFactory

pytestmark = pytest.mark.django_db

API = "/admin/easycars/api/"


def post_json(client, url, data=None, **extra):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **extra)


def account_json(account, **overrides):
    return {
        "environment": "test",
        "clientId": account.client_id,
        "clientSecret": account.client_secret,
        "accountNumber": account.account_number,
        "accountSecret": account.account_secret,
        **overrides,
    }


@pytest.fixture
def dealership():
    return DealershipFactory()


# Credentials ---------------------------------------------------------------------------------


def test_credentials_metadata_never_includes_a_secret(admin_of, dealership):
    CredentialFactory(dealership=dealership, yard_code="MAIN")
    response = admin_of(dealership).get(API + "credentials/")
    data = response.json()
    assert (data["accountNumberLast4"], data["yardCode"], data["isActive"]) == ("0001", "MAIN", True)
    assert_no_secrets(response)


def test_credentials_metadata_is_a_json_404_when_not_configured(admin_of, dealership):
    response = admin_of(dealership).get(API + "credentials/")
    assert (response.status_code, response.json()["code"]) == (404, "not_configured")


def test_saving_untested_credentials_is_refused_with_a_json_error(admin_of, dealership, sandbox_settings):
    response = post_json(admin_of(dealership), API + "credentials/", account_json(sandbox_settings.account))
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert not EasyCarsCredential.objects.exists()


def test_saving_without_testing_creates_the_credentials(admin_of, dealership, sandbox_settings):
    data = account_json(sandbox_settings.account, saveWithoutTesting=True, yardCode="MAIN")
    response = post_json(admin_of(dealership), API + "credentials/", data)
    assert response.status_code == 201
    assert EasyCarsCredential.objects.get(dealership=dealership).yard_code == "MAIN"
    assert_no_secrets(response)


def test_saving_after_a_successful_test_through_the_api(admin_of, dealership, sandbox_settings):
    client = admin_of(dealership)
    data = account_json(sandbox_settings.account)
    post_json(client, API + "credentials/test/", data)
    response = post_json(client, API + "credentials/", data)
    assert response.status_code == 201


def test_updating_credentials_answers_200_and_keeps_blank_secrets(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    data = {"environment": "production", "saveWithoutTesting": True}
    response = post_json(admin_of(dealership), API + "credentials/", data)
    credential = EasyCarsCredential.objects.get(dealership=dealership)
    assert (response.status_code, credential.environment, credential.account_secret) == (
        200,
        "production",
        "00000000-0000-0000-0000-000000000003",
    )


def test_invalid_json_is_a_json_400(admin_of, dealership):
    response = admin_of(dealership).post(API + "credentials/", "{nope", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")


def test_connection_test_succeeds_with_the_sandbox_account(admin_of, dealership, sandbox_settings):
    response = post_json(admin_of(dealership), API + "credentials/test/", account_json(sandbox_settings.account))
    assert (response.json()["success"], response.json()["failedPair"]) == (True, None)
    assert not EasyCarsCredential.objects.exists()


def test_connection_test_reports_the_rejected_pair_and_its_fields(admin_of, dealership, sandbox_settings):
    data = account_json(sandbox_settings.account, accountSecret="NEW-ACCOUNT-SECRET-9a7e")
    response = post_json(admin_of(dealership), API + "credentials/test/", data)
    body = response.json()
    assert (body["success"], body["failedPair"], body["fields"]) == (
        False,
        "account",
        ["accountNumber", "accountSecret"],
    )
    assert_no_secrets(response)


def test_connection_test_of_an_unreachable_server_says_so(admin_of, dealership, settings):
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS,
        "BASE_URLS": {"test": "http://127.0.0.1:9/nothing", "production": "http://127.0.0.1:9/nothing"},
        "CONNECT_TIMEOUT": 0.5,
    }
    account = CredentialFactory.build(dealership=dealership)
    response = post_json(admin_of(dealership), API + "credentials/test/", account_json(account))
    body = response.json()
    assert (body["success"], body["code"]) == (False, "failed")
    assert "Could not reach EasyCars" in body["message"]


def test_delete_credentials(admin_of, dealership):
    credential = CredentialFactory(dealership=dealership)
    response = admin_of(dealership).delete(f"{API}credentials/{credential.pk}/")
    assert response.status_code == 204
    assert not EasyCarsCredential.objects.exists()


def test_delete_of_another_dealerships_credentials_is_not_found(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    other = CredentialFactory()
    response = admin_of(dealership).delete(f"{API}credentials/{other.pk}/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert EasyCarsCredential.objects.filter(pk=other.pk).exists()


def test_unsafe_methods_need_the_csrf_token(dealership):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_sync_admin(dealership))
    response = post_json(client, API + "sync/leads/")
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")


def test_the_csrf_token_is_accepted_in_the_header(dealership):
    CredentialFactory(dealership=dealership)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_sync_admin(dealership))
    client.get("/admin/easycars/sync/")
    response = post_json(client, API + "sync/leads/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 202


def test_endpoints_need_their_permission(admin_of, dealership):
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_sync_status"))
    response = client.get(API + "credentials/")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_anonymous_requests_get_no_data(client, dealership):
    response = client.get(API + "sync/status/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code in (302, 403)
    assert b"isConfigured" not in response.content


def test_unsupported_method_is_a_json_405(admin_of, dealership):
    response = admin_of(dealership).put(API + "sync/status/")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


# Triggers ------------------------------------------------------------------------------------


def test_trigger_answers_202_with_the_run_id(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    response = admin_of(dealership).post(API + "sync/leads/")
    body = response.json()
    assert (response.status_code, body["runId"], body["started"]) == (202, SyncLog.objects.get().pk, True)


def test_trigger_while_running_joins_the_run(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    first = client.post(API + "sync/leads/").json()
    second = client.post(API + "sync/leads/").json()
    assert (second["runId"], second["joined"]) == (first["runId"], True)


def test_trigger_over_the_hourly_limit_answers_429(admin_of, dealership, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "MANUAL_SYNC_LIMIT_PER_HOUR": 1}
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    client.post(API + "sync/leads/")
    RunRecorder(SyncLog.objects.get()).finish()
    response = client.post(API + "sync/leads/")
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 3600


def test_the_limit_is_per_dealership(admin_of, dealership, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "MANUAL_SYNC_LIMIT_PER_HOUR": 1}
    other = DealershipFactory()
    CredentialFactory(dealership=dealership)
    CredentialFactory(dealership=other)
    client = admin_of(dealership, other)
    client.post(API + f"sync/leads/?dealership={dealership.slug}")
    response = client.post(API + f"sync/leads/?dealership={other.slug}")
    assert response.status_code == 202


def test_trigger_without_credentials_is_a_409(admin_of, dealership):
    response = admin_of(dealership).post(API + "sync/stock/")
    assert (response.status_code, response.json()["code"]) == (409, "not_configured")


def test_trigger_while_paused_is_a_409(admin_of, dealership):
    CredentialFactory(dealership=dealership, is_active=False)
    response = admin_of(dealership).post(API + "sync/leads/")
    assert (response.status_code, response.json()["code"]) == (409, "paused")


# Status and logs -----------------------------------------------------------------------------


def test_status_has_the_sync_summary_shape(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    started = dt.datetime(2026, 2, 1, 2, 0, tzinfo=dt.UTC)
    log = SyncLogFactory(
        dealership=dealership, started_at=started, completed_at=started, records_created=5, duration_ms=75000
    )
    body = admin_of(dealership).get(API + "sync/status/").json()
    assert (body["isConfigured"], body["isSyncing"], body["lastLeadSync"]) == (True, False, None)
    assert (body["lastStockSync"]["id"], body["lastStockSync"]["recordsCreated"]) == (log.pk, 5)
    assert body["lastStockSync"]["durationMs"] == 75000
    assert [entry["id"] for entry in body["recentLogs"]] == [log.pk]


def test_status_reports_a_running_sync_with_its_progress(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    run_id = client.post(API + "sync/leads/").json()["runId"]
    SyncLog.objects.filter(pk=run_id).update(records_total=8, records_processed=2)
    body = client.get(API + "sync/status/").json()
    assert (body["isSyncing"], body["leads"]["running"]["progressPercent"]) == (True, 25)


def test_status_never_includes_a_secret(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    assert_no_secrets(admin_of(dealership).get(API + "sync/status/"))


def test_logs_are_paginated(admin_of, dealership):
    for n in range(5):
        SyncLogFactory(dealership=dealership)
    body = admin_of(dealership).get(API + "sync/logs/", {"page": 2, "pageSize": 2}).json()
    assert (len(body["logs"]), body["pagination"]) == (
        2,
        {"currentPage": 2, "pageSize": 2, "totalRecords": 5, "totalPages": 3},
    )


def test_logs_page_size_is_capped(admin_of, dealership):
    body = admin_of(dealership).get(API + "sync/logs/", {"pageSize": 1000}).json()
    assert body["pagination"]["pageSize"] == 100


def test_logs_filter_by_type_and_status(admin_of, dealership):
    SyncLogFactory(dealership=dealership)
    wanted = SyncLogFactory(dealership=dealership, sync_type="lead", status="failed")
    SyncLogFactory(dealership=dealership, sync_type="lead", status="success")
    body = admin_of(dealership).get(API + "sync/logs/", {"syncType": "lead", "status": "failed"}).json()
    assert [log["id"] for log in body["logs"]] == [wanted.pk]


def test_logs_reject_an_unknown_filter_value(admin_of, dealership):
    response = admin_of(dealership).get(API + "sync/logs/", {"status": "exploded"})
    assert (response.status_code, response.json()["code"], list(response.json()["errors"])) == (
        400,
        "invalid_filter",
        ["status"],
    )


def test_logs_page_out_of_range_is_a_json_404(admin_of, dealership):
    response = admin_of(dealership).get(API + "sync/logs/", {"page": 9})
    assert (response.status_code, response.json()["code"]) == (404, "invalid_page")


def test_log_detail_includes_errors_failures_and_redacted_payloads(admin_of, dealership):
    log = SyncLogFactory(
        dealership=dealership,
        status="failed",
        error_message="EasyCars was down",
        item_failures=[{"kind": "item", "ref": "S1", "message": "bad price"}],
        request_payload={"AccountSecret": "00000000-0000-0000-0000-000000000003", "YardCode": "1"},
    )
    response = admin_of(dealership).get(f"{API}sync/logs/{log.pk}/")
    body = response.json()
    assert (body["errorMessage"], body["itemFailures"][0]["ref"], body["requestPayload"]) == (
        "EasyCars was down",
        "S1",
        {"AccountSecret": "***", "YardCode": "1"},
    )
    assert_no_secrets(response)


def test_log_detail_of_another_dealership_is_a_json_404(admin_of, dealership):
    other = SyncLogFactory()
    response = admin_of(dealership).get(f"{API}sync/logs/{other.pk}/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_asking_for_another_dealership_is_a_json_404(admin_of, dealership):
    other = DealershipFactory()
    response = admin_of(dealership).get(API + f"sync/status/?dealership={other.slug}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_logs_filter_by_start_date_inclusive(admin_of, dealership):
    for day in (3, 4, 5, 6):
        SyncLogFactory(dealership=dealership, started_at=dt.datetime(2026, 2, day, 23, 0, tzinfo=dt.UTC))
    body = admin_of(dealership).get(API + "sync/logs/", {"startedFrom": "2026-02-04", "startedTo": "2026-02-05"}).json()
    assert sorted(log["startedAt"][:10] for log in body["logs"]) == ["2026-02-04", "2026-02-05"]


def test_stock_trigger_starts_a_manual_stock_run(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    body = client.post(API + "sync/stock/").json()
    log = SyncLog.objects.get(pk=body["runId"])
    assert (log.sync_type, log.trigger, log.triggered_by, body["started"]) == ("stock", "manual", client.user, True)


def test_stock_trigger_runs_the_sync_against_the_sandbox(
    admin_of, dealership, sandbox_settings, django_capture_on_commit_callbacks
):
    CredentialFactory(dealership=dealership)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = admin_of(dealership).post(API + "sync/stock/").json()["runId"]
    log = SyncLog.objects.get(pk=run_id)
    assert (log.status, log.records_created) == ("success", 20)
