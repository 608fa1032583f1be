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
        "client_id": account.client_id,
        "client_secret": account.client_secret,
        "account_number": account.account_number,
        "account_secret": account.account_secret,
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
    assert (data["account_number_last4"], data["yard_code"], data["is_active"]) == ("0001", "MAIN", True)
    assert_no_secrets(response)


def test_credentials_metadata_is_a_json_404_when_not_configured(admin_of, dealership):
    response = admin_of(dealership).get(API + "credentials/")
    assert (response.status_code, response.json()["code"]) == (404, "not_configured")


def test_saving_untested_credentials_is_refused_with_a_json_error(admin_of, dealership, sandbox_settings):
    response = post_json(admin_of(dealership), API + "credentials/", account_json(sandbox_settings.account))
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert not EasyCarsCredential.objects.exists()


def test_saving_without_testing_creates_the_credentials(admin_of, dealership, sandbox_settings):
    data = account_json(sandbox_settings.account, save_without_testing=True, yard_code="MAIN")
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
    data = {"environment": "production", "save_without_testing": True}
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
    assert (response.json()["success"], response.json()["failed_pair"]) == (True, None)
    assert not EasyCarsCredential.objects.exists()


def test_connection_test_reports_the_rejected_pair_and_its_fields(admin_of, dealership, sandbox_settings):
    data = account_json(sandbox_settings.account, account_secret="NEW-ACCOUNT-SECRET-9a7e")
    response = post_json(admin_of(dealership), API + "credentials/test/", data)
    body = response.json()
    assert (body["success"], body["failed_pair"], body["fields"][:2]) == (
        False,
        "account",
        ["account_number", "account_secret"],
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
    assert b"is_configured" not in response.content
    assert b"isConfigured" not in response.content


def test_unsupported_method_is_a_json_405(admin_of, dealership):
    response = admin_of(dealership).put(API + "sync/status/")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


# Triggers ------------------------------------------------------------------------------------


def test_trigger_answers_202_with_the_run_id(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    response = admin_of(dealership).post(API + "sync/leads/")
    body = response.json()
    assert (response.status_code, body["run_id"], body["started"]) == (202, SyncLog.objects.get().pk, True)


def test_trigger_while_running_joins_the_run(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    first = client.post(API + "sync/leads/").json()
    second = client.post(API + "sync/leads/").json()
    assert (second["run_id"], second["joined"]) == (first["run_id"], True)


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
    assert (body["is_configured"], body["is_syncing"], body["last_lead_sync"]) == (True, False, None)
    assert (body["last_stock_sync"]["id"], body["last_stock_sync"]["records_created"]) == (log.pk, 5)
    assert body["last_stock_sync"]["duration_ms"] == 75000
    assert [entry["id"] for entry in body["recent_logs"]] == [log.pk]


def test_status_reports_a_running_sync_with_its_progress(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    run_id = client.post(API + "sync/leads/").json()["run_id"]
    SyncLog.objects.filter(pk=run_id).update(records_total=8, records_processed=2)
    body = client.get(API + "sync/status/").json()
    assert (body["is_syncing"], body["leads"]["running"]["progress_percent"]) == (True, 25)


def test_status_never_includes_a_secret(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    assert_no_secrets(admin_of(dealership).get(API + "sync/status/"))


def test_logs_are_paginated(admin_of, dealership):
    for n in range(5):
        SyncLogFactory(dealership=dealership)
    body = admin_of(dealership).get(API + "sync/logs/", {"page": 2, "page_size": 2}).json()
    pagination = {key: body["pagination"][key] for key in ("current_page", "page_size", "total_records", "total_pages")}
    assert (len(body["logs"]), pagination) == (
        2,
        {"current_page": 2, "page_size": 2, "total_records": 5, "total_pages": 3},
    )


def test_logs_page_size_is_capped(admin_of, dealership):
    body = admin_of(dealership).get(API + "sync/logs/", {"page_size": 1000}).json()
    assert body["pagination"]["page_size"] == 100


def test_logs_filter_by_type_and_status(admin_of, dealership):
    SyncLogFactory(dealership=dealership)
    wanted = SyncLogFactory(dealership=dealership, sync_type="lead", status="failed")
    SyncLogFactory(dealership=dealership, sync_type="lead", status="success")
    body = admin_of(dealership).get(API + "sync/logs/", {"sync_type": "lead", "status": "failed"}).json()
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
    assert (body["error_message"], body["item_failures"][0]["ref"], body["request_payload"]) == (
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
    body = (
        admin_of(dealership).get(API + "sync/logs/", {"started_from": "2026-02-04", "started_to": "2026-02-05"}).json()
    )
    assert sorted(log["started_at"][:10] for log in body["logs"]) == ["2026-02-04", "2026-02-05"]


def test_stock_trigger_starts_a_manual_stock_run(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    body = client.post(API + "sync/stock/").json()
    log = SyncLog.objects.get(pk=body["run_id"])
    assert (log.sync_type, log.trigger, log.triggered_by, body["started"]) == ("stock", "manual", client.user, True)


def test_stock_trigger_runs_the_sync_against_the_sandbox(
    admin_of, dealership, sandbox_settings, django_capture_on_commit_callbacks
):
    CredentialFactory(dealership=dealership)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = admin_of(dealership).post(API + "sync/stock/").json()["run_id"]
    log = SyncLog.objects.get(pk=run_id)
    assert (log.status, log.records_created) == ("success", 20)


# Pagination ----------------------------------------------------------------------------------


def test_logs_last_page_holds_the_rest_newest_first(admin_of, dealership):
    logs = [
        SyncLogFactory(dealership=dealership, started_at=dt.datetime(2026, 2, day, tzinfo=dt.UTC)) for day in (1, 2, 3)
    ]
    body = admin_of(dealership).get(API + "sync/logs/", {"page": 2, "page_size": 2}).json()
    assert [log["id"] for log in body["logs"]] == [logs[0].pk]
    assert (body["pagination"]["current_page"], body["pagination"]["total_pages"]) == (2, 2)


def test_logs_default_page_size_is_20(admin_of, dealership):
    SyncLogFactory.create_batch(21, dealership=dealership)
    body = admin_of(dealership).get(API + "sync/logs/").json()
    assert (len(body["logs"]), body["pagination"]["page_size"], body["pagination"]["total_pages"]) == (20, 20, 2)


@pytest.mark.parametrize("params", [{"page": "last"}, {"page_size": "many"}])
def test_logs_page_and_page_size_must_be_whole_numbers(admin_of, dealership, params):
    response = admin_of(dealership).get(API + "sync/logs/", params)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_page")


def test_logs_list_only_the_dealerships_own_runs(admin_of, dealership):
    own = SyncLogFactory(dealership=dealership)
    SyncLogFactory()
    body = admin_of(dealership).get(API + "sync/logs/").json()
    assert ([log["id"] for log in body["logs"]], body["pagination"]["total_records"]) == ([own.pk], 1)


# The deprecated camelCase keys still answer --------------------------------------------------


def test_answers_carry_the_deprecated_camelcase_keys_too(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    log = SyncLogFactory(dealership=dealership, records_created=5)
    client = admin_of(dealership)
    credential = client.get(API + "credentials/").json()
    assert credential["accountNumberLast4"] == credential["account_number_last4"] == "0001"
    status = client.get(API + "sync/status/").json()
    assert status["isConfigured"] is status["is_configured"] is True
    assert status["lastStockSync"]["recordsCreated"] == status["last_stock_sync"]["records_created"] == 5
    assert status["stock"]["healthLabel"] == status["stock"]["health_label"]
    assert [entry["detailUrl"] for entry in status["recentLogs"]] == [f"/admin/easycars/history/{log.pk}/"]
    detail = client.get(f"{API}sync/logs/{log.pk}/").json()
    assert (detail["dealershipId"], detail["syncDirection"]) == (dealership.pk, "inbound")
    pagination = client.get(API + "sync/logs/").json()["pagination"]
    assert (pagination["currentPage"], pagination["totalRecords"]) == (1, 1)


def test_trigger_and_connection_test_answers_carry_the_camelcase_keys(admin_of, dealership, sandbox_settings):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership)
    trigger = client.post(API + "sync/leads/").json()
    assert (trigger["runId"], trigger["statusUrl"]) == (trigger["run_id"], f"{API}sync/logs/{trigger['run_id']}/")
    data = account_json(sandbox_settings.account, account_secret="NEW-ACCOUNT-SECRET-9a7e")
    body = post_json(client, API + "credentials/test/", data).json()
    assert body["failedPair"] == body["failed_pair"] == "account"
    assert body["fields"] == ["account_number", "account_secret", "accountNumber", "accountSecret"]


def test_form_errors_name_the_field_in_both_spellings(admin_of, dealership):
    response = post_json(admin_of(dealership), API + "credentials/test/", {"environment": "test"})
    errors = response.json()["errors"]
    assert (response.status_code, errors["client_id"]) == (400, errors["clientId"])


def test_requests_may_still_use_the_camelcase_keys(admin_of, dealership, sandbox_settings):
    account = sandbox_settings.account
    data = {
        "environment": "test",
        "clientId": account.client_id,
        "clientSecret": account.client_secret,
        "accountNumber": account.account_number,
        "accountSecret": account.account_secret,
        "yardCode": "MAIN",
        "saveWithoutTesting": True,
    }
    response = post_json(admin_of(dealership), API + "credentials/", data)
    credential = EasyCarsCredential.objects.get(dealership=dealership)
    assert (response.status_code, credential.yard_code, credential.account_secret) == (
        201,
        "MAIN",
        account.account_secret,
    )


def test_form_encoded_requests_are_accepted(admin_of, dealership, sandbox_settings):
    data = {**account_json(sandbox_settings.account), "save_without_testing": "on"}
    response = admin_of(dealership).post(API + "credentials/", data)
    assert response.status_code == 201


def test_log_queries_may_still_use_the_camelcase_parameters(admin_of, dealership):
    SyncLogFactory.create_batch(3, dealership=dealership)
    wanted = SyncLogFactory(dealership=dealership, sync_type="lead")
    client = admin_of(dealership)
    assert [log["id"] for log in client.get(API + "sync/logs/", {"syncType": "lead"}).json()["logs"]] == [wanted.pk]
    assert client.get(API + "sync/logs/", {"pageSize": 2}).json()["pagination"]["page_size"] == 2


def test_a_json_body_that_is_not_an_object_is_a_json_400(admin_of, dealership):
    response = post_json(admin_of(dealership), API + "credentials/test/", ["client_id"])
    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")


# CSRF, permissions and other dealerships -----------------------------------------------------


def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/admin/easycars/sync/")  # sets the csrftoken cookie
    return client


def test_a_session_post_without_the_csrf_token_is_refused(dealership, sandbox_settings):
    client = csrf_client(make_sync_admin(dealership))
    data = account_json(sandbox_settings.account, save_without_testing=True)
    response = post_json(client, API + "credentials/", data)
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    assert not EasyCarsCredential.objects.exists()


def test_a_session_delete_needs_the_csrf_token(dealership):
    credential = CredentialFactory(dealership=dealership)
    client = csrf_client(make_sync_admin(dealership))
    url = f"{API}credentials/{credential.pk}/"
    refused = client.delete(url)
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    assert EasyCarsCredential.objects.filter(pk=credential.pk).exists()
    accepted = client.delete(url, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert accepted.status_code == 204
    assert not EasyCarsCredential.objects.exists()


def test_a_wrong_csrf_token_is_refused(dealership):
    CredentialFactory(dealership=dealership)
    client = csrf_client(make_sync_admin(dealership))
    response = post_json(client, API + "sync/stock/", HTTP_X_CSRFTOKEN="x" * 32)
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    assert not SyncLog.objects.exists()


def test_safe_methods_need_no_csrf_token(dealership):
    client = csrf_client(make_sync_admin(dealership))
    assert client.get(API + "sync/status/").status_code == 200


def test_a_member_of_a_gets_404_for_bs_log_and_credential(admin_of):
    a, b = DealershipFactory(), DealershipFactory()
    CredentialFactory(dealership=a)
    b_credential = CredentialFactory(dealership=b)
    b_log = SyncLogFactory(dealership=b, error_message="only-b-knows")
    client = admin_of(a)
    detail = client.get(f"{API}sync/logs/{b_log.pk}/")
    delete = client.delete(f"{API}credentials/{b_credential.pk}/")
    credential = client.get(API + f"credentials/?dealership={b.slug}")
    assert [(r.status_code, r.json()["code"]) for r in (detail, delete, credential)] == [(404, "not_found")] * 3
    assert "only-b-knows" not in detail.content.decode()
    assert EasyCarsCredential.objects.filter(pk=b_credential.pk).exists()


def test_a_member_of_both_may_read_either_dealerships_log(admin_of):
    a, b = DealershipFactory(), DealershipFactory()
    b_log = SyncLogFactory(dealership=b)
    response = admin_of(a, b).get(f"{API}sync/logs/{b_log.pk}/")
    assert (response.status_code, response.json()["id"]) == (200, b_log.pk)


def test_a_user_of_no_dealership_gets_a_json_404(admin_of):
    response = admin_of().get(API + "sync/status/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_trigger_needs_the_trigger_permission(admin_of, dealership):
    CredentialFactory(dealership=dealership)
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_sync_status"))
    response = client.post(API + "sync/stock/")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert not SyncLog.objects.exists()


# What the site's REST_FRAMEWORK settings cannot change ---------------------------------------


def test_answers_are_json_whatever_the_client_accepts(admin_of, dealership):
    response = admin_of(dealership).get(API + "sync/status/", HTTP_ACCEPT="text/html")
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")


def test_site_wide_rest_framework_settings_do_not_loosen_the_endpoints(admin_of, dealership, settings):
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.BrowsableAPIRenderer"],
        "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
        "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {"anon": "1/day"},
        "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
    }
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_sync_status"))
    denied = client.get(API + "credentials/")
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    body = client.get(API + "sync/logs/").json()
    assert set(body) == {"logs", "pagination"}
