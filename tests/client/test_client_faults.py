"""The client under every fault the sandbox can inject: retries, give-ups, CreateLead safety,
the circuit breaker, and secrets kept out of logs and exceptions."""

import logging
import time

import pytest
from django.core.cache import caches

from wagtail_easycars.client.contract import EasyCarsAccount, UpdateLeadRequest
from wagtail_easycars.client.errors import (
    EasyCarsApiError,
    EasyCarsCircuitOpen,
    EasyCarsError,
    EasyCarsMalformedResponse,
    EasyCarsOutcomeUnknown,
    EasyCarsUnavailableError,
)
from wagtail_easycars.client.http import EasyCarsClient

from .test_client import lead_request

STOCKS = "StockService/GetAdvertisementStocks"
CREATE = "LeadService/CreateLead"


@pytest.fixture
def client(easycars):
    with EasyCarsClient(easycars.account) as client:
        yield client


def _data_calls(sandbox, endpoint):
    return sandbox.control.count(endpoint)


# Retries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_until_success(client, easycars, status):
    easycars.control.add_fault(STOCKS, "http_error", status=status, count=2)

    assert client.get_advertisement_stocks().items

    assert _data_calls(easycars, STOCKS) == 3


def test_persistent_server_error_gives_up_after_three_retries(client, easycars):
    easycars.control.add_fault(STOCKS, "http_error", status=500)

    with pytest.raises(EasyCarsUnavailableError, match="in 4 attempt"):
        client.get_advertisement_stocks()

    assert _data_calls(easycars, STOCKS) == 4


def test_rate_limit_waits_as_long_as_retry_after_asks(client, easycars):
    easycars.control.add_fault(STOCKS, "rate_limit", retry_after=1, count=1)

    client.get_advertisement_stocks()

    first, second = easycars.control.requests(STOCKS)
    assert second["timestamp"] - first["timestamp"] >= 0.95


def test_retry_after_beyond_the_maximum_gives_up_at_once(client, easycars, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "RETRY_AFTER_MAX": 2}
    easycars.control.add_fault(STOCKS, "rate_limit", retry_after=30)

    with pytest.raises(EasyCarsUnavailableError, match="asked to wait 30 s"):
        client.get_advertisement_stocks()

    assert _data_calls(easycars, STOCKS) == 1


def test_system_error_code_9_is_retried(client, easycars):
    easycars.control.add_fault(STOCKS, "code", code=9, message="System error.", count=1)

    assert client.get_advertisement_stocks().items
    assert _data_calls(easycars, STOCKS) == 2


def test_system_error_on_request_token_is_retried(client, easycars):
    easycars.control.add_fault("StockService/RequestToken", "code", code=9, count=1)

    assert client.get_advertisement_stocks().items
    assert _data_calls(easycars, "StockService/RequestToken") == 2


def test_warning_code_5_is_a_success_with_the_warning_kept(client, easycars):
    easycars.control.add_fault("*", "warning", message="Stock list is being rebuilt.")

    stock = client.get_advertisement_stocks()

    assert stock.items
    assert stock.warning == "Stock list is being rebuilt."


def test_warning_on_create_lead_keeps_the_lead(client, easycars):
    easycars.control.add_fault(CREATE, "warning", message="Duplicate enquiry?")

    lead = client.create_lead(lead_request())

    assert lead.warning == "Duplicate enquiry?"
    assert len(easycars.control.leads()) == 1


@pytest.mark.parametrize("kind", ["malformed", "truncated", "drop"])
def test_broken_answers_to_reads_are_retried(client, easycars, kind):
    easycars.control.add_fault(STOCKS, kind, count=1)

    assert client.get_advertisement_stocks().items
    assert _data_calls(easycars, STOCKS) == 2


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_persistently_unreadable_answers_raise_malformed_response(client, easycars, kind):
    easycars.control.add_fault(STOCKS, kind)

    with pytest.raises(EasyCarsMalformedResponse):
        client.get_advertisement_stocks()

    assert _data_calls(easycars, STOCKS) == 4


def test_slow_answers_time_out_and_end_as_unavailable(easycars, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "READ_TIMEOUT": 0.3}
    easycars.control.add_fault(STOCKS, "latency", ms=1500)

    with EasyCarsClient(easycars.account) as client, pytest.raises(EasyCarsUnavailableError, match="ReadTimeout"):
        client.get_advertisement_stocks()

    assert _data_calls_started(easycars, STOCKS) == 4


def _wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _data_calls_started(sandbox, endpoint):
    # Timed-out calls are logged once the sandbox finishes them.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        count = sandbox.control.count(endpoint)
        if count >= 4:
            return count
        time.sleep(0.1)
    return sandbox.control.count(endpoint)


def test_latency_under_the_timeout_is_just_slow(client, easycars):
    easycars.control.add_fault(STOCKS, "latency", ms=100)

    assert client.get_advertisement_stocks().items
    assert _data_calls(easycars, STOCKS) == 1


def test_update_lead_is_retried_after_a_dropped_connection(client, easycars):
    from wagtail_easycars.client.contract import LeadStatus, UpdateLeadRequest

    created = client.create_lead(lead_request())
    easycars.control.add_fault("UpdateLead", "drop", count=1)

    client.update_lead(UpdateLeadRequest(created.lead_number, lead_status=LeadStatus.WON))

    assert easycars.control.leads()[0]["LeadStatus"] == 50


# CreateLead is not idempotent -------------------------------------------------------------------


def test_create_lead_read_timeout_is_outcome_unknown_and_not_resent(easycars, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "READ_TIMEOUT": 0.3}
    easycars.control.add_fault(CREATE, "latency", ms=1000, count=1)

    with EasyCarsClient(easycars.account) as client, pytest.raises(EasyCarsOutcomeUnknown):
        client.create_lead(lead_request())

    _wait_for(lambda: len(easycars.control.leads()) >= 1)
    assert _data_calls(easycars, CREATE) == 1
    # The sandbox, like EasyCars, finished the work after the client gave up.
    assert len(easycars.control.leads()) == 1


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("drop", {}),
        ("http_error", {"status": 500}),
        ("code", {"code": 9}),
        ("truncated", {}),
        ("malformed", {}),
        # A gateway (or EasyCars) can answer these after the work was done: they prove nothing.
        ("http_error", {"status": 502}),
        ("http_error", {"status": 503}),
        ("http_error", {"status": 504}),
        ("http_error", {"status": 408}),
        ("rate_limit", {"retry_after": 0}),
    ],
)
def test_create_lead_is_never_resent_when_it_may_have_been_processed(client, easycars, kind, params):
    easycars.control.add_fault(CREATE, kind, count=3, **params)

    with pytest.raises(EasyCarsOutcomeUnknown) as caught:
        client.create_lead(lead_request())

    assert _data_calls(easycars, CREATE) == 1
    assert isinstance(caught.value, EasyCarsUnavailableError)
    assert "checked before being sent again" in str(caught.value)


@pytest.mark.parametrize("status", [429, 502, 503])
def test_create_lead_processed_then_refused_makes_one_lead(client, easycars, status):
    easycars.control.fail_after_processing(CREATE, status, count=2)

    with pytest.raises(EasyCarsOutcomeUnknown, match=f"HTTP {status}"):
        client.create_lead(lead_request())

    assert _data_calls(easycars, CREATE) == 1
    assert len(easycars.control.leads()) == 1


def test_create_lead_rate_limited_for_long_is_outcome_unknown(client, easycars, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "RETRY_AFTER_MAX": 2}
    easycars.control.add_fault(CREATE, "rate_limit", retry_after=30, count=1)

    with pytest.raises(EasyCarsOutcomeUnknown, match="HTTP 429"):
        client.create_lead(lead_request())

    assert _data_calls(easycars, CREATE) == 1


def test_create_lead_answered_late_is_outcome_unknown_and_not_resent(easycars, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "READ_TIMEOUT": 0.3}
    easycars.control.answer_late(CREATE, 1000)

    with EasyCarsClient(easycars.account) as client, pytest.raises(EasyCarsOutcomeUnknown):
        client.create_lead(lead_request())

    # Already processed when the client gave up; the answer came later.
    assert len(easycars.control.leads()) == 1
    _wait_for(lambda: _data_calls(easycars, CREATE) >= 1)
    assert _data_calls(easycars, CREATE) == 1


@pytest.mark.parametrize(("kind", "params"), [("http_error", {"status": 503}), ("rate_limit", {"retry_after": 0})])
def test_update_lead_is_retried_when_it_was_turned_away(client, easycars, kind, params):
    created = client.create_lead(lead_request())
    easycars.control.add_fault("LeadService/UpdateLead", kind, count=1, **params)

    client.update_lead(UpdateLeadRequest(created.lead_number, notes="Called back"))

    assert _data_calls(easycars, "LeadService/UpdateLead") == 2


def test_create_lead_token_failure_is_retried_safely(client, easycars):
    easycars.control.add_fault("LeadService/RequestToken", "drop", count=1)

    client.create_lead(lead_request())

    assert len(easycars.control.leads()) == 1


# Circuit breaker ---------------------------------------------------------------------------------


@pytest.fixture
def breaker_settings(easycars, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "MAX_RETRIES": 0, "BREAKER_RESET_SECONDS": 1}
    return easycars


def _fail_five_times(client):
    for _ in range(5):
        with pytest.raises(EasyCarsUnavailableError) as caught:
            client.get_advertisement_stocks()
        assert not isinstance(caught.value, EasyCarsCircuitOpen)


def test_breaker_opens_after_five_failed_calls(client, breaker_settings):
    breaker_settings.control.add_fault(STOCKS, "http_error", status=500)
    _fail_five_times(client)

    with pytest.raises(EasyCarsCircuitOpen, match="paused"):
        client.get_advertisement_stocks()

    assert _data_calls(breaker_settings, STOCKS) == 5


def test_breaker_is_shared_by_clients_of_the_same_account(client, breaker_settings):
    breaker_settings.control.add_fault(STOCKS, "http_error", status=500)
    _fail_five_times(client)

    with EasyCarsClient(breaker_settings.account) as other, pytest.raises(EasyCarsCircuitOpen):
        other.search_contacts(email="nobody@invalid.example")


def test_breaker_is_per_account(client, breaker_settings):
    breaker_settings.control.add_fault(STOCKS, "http_error", status=500)
    _fail_five_times(client)

    with EasyCarsClient(breaker_settings.accounts[1]) as other, pytest.raises(EasyCarsUnavailableError) as caught:
        other.get_advertisement_stocks()
    assert not isinstance(caught.value, EasyCarsCircuitOpen)


def test_half_open_trial_success_closes_the_breaker(client, breaker_settings):
    breaker_settings.control.add_fault(STOCKS, "http_error", status=500)
    _fail_five_times(client)
    breaker_settings.control.clear_faults()
    time.sleep(1.05)

    assert client.get_advertisement_stocks().items
    assert client.get_advertisement_stocks().items


def test_half_open_trial_failure_reopens_the_breaker(client, breaker_settings):
    breaker_settings.control.add_fault(STOCKS, "http_error", status=500)
    _fail_five_times(client)
    time.sleep(1.05)

    with pytest.raises(EasyCarsUnavailableError) as trial:
        client.get_advertisement_stocks()
    with pytest.raises(EasyCarsCircuitOpen):
        client.get_advertisement_stocks()

    assert not isinstance(trial.value, EasyCarsCircuitOpen)
    assert _data_calls(breaker_settings, STOCKS) == 6


def test_refusals_do_not_open_the_breaker(client, breaker_settings):
    for _ in range(6):
        with pytest.raises(EasyCarsApiError):
            client.get_lead_detail("999999")

    assert client.get_advertisement_stocks().items


def test_success_resets_the_failure_count(client, breaker_settings):
    breaker_settings.control.add_fault(STOCKS, "http_error", status=500, count=4)
    for _ in range(4):
        with pytest.raises(EasyCarsUnavailableError):
            client.get_advertisement_stocks()
    client.get_advertisement_stocks()
    breaker_settings.control.add_fault(STOCKS, "http_error", status=500, count=4)
    for _ in range(4):
        with pytest.raises(EasyCarsUnavailableError):
            client.get_advertisement_stocks()

    assert client.get_advertisement_stocks().items


# Secrets -------------------------------------------------------------------------------------------


def test_no_secret_or_token_appears_in_logs_or_exceptions(easycars, caplog):
    caplog.set_level(logging.DEBUG)
    account = easycars.account
    problems = []
    scenarios = [
        (account, STOCKS, "http_error", {"status": 500}),
        (account, STOCKS, "malformed", {}),
        (account, STOCKS, "drop", {}),
        (account, STOCKS, "latency", {"ms": 500}),
        (account, CREATE, "drop", {}),
        (account, STOCKS, "code", {"code": 1, "message": "Invalid token."}),
        (EasyCarsAccount(**{**vars(account), "client_secret": account.client_secret[:-1] + "9"}), None, None, {}),
        (EasyCarsAccount(**{**vars(account), "account_secret": account.account_secret[:-1] + "9"}), None, None, {}),
    ]
    for scenario_account, endpoint, kind, params in scenarios:
        easycars.control.clear_faults()
        if kind:
            easycars.control.add_fault(endpoint, kind, **params)
        with EasyCarsClient(scenario_account) as client:
            for call in (client.get_advertisement_stocks, lambda c=client: c.create_lead(lead_request())):
                try:
                    call()
                except EasyCarsError as exc:
                    problems.append(f"{exc} {exc!r} {exc.__cause__!r} {exc.__context__!r}")
            problems.append(repr(client.account))
            problems.append(repr(client.test_connection()))
    tokens = [value for value in caches["default"]._cache.values() if b"eyJ" in value]
    assert problems
    assert tokens, "the scenarios should have cached at least one token"
    secrets = [account.client_secret, account.account_secret, account.client_secret[:-1] + "9"]
    logged = caplog.text + " ".join(str(vars(record)) for record in caplog.records)
    for text in [logged, *problems]:
        for secret in secrets:
            assert secret not in text
        assert "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." not in text
