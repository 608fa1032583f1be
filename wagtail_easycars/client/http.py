"""The EasyCars HTTP client: tokens, the response envelope, retries and the circuit breaker.

It knows nothing of the ORM: give it an :class:`EasyCarsAccount`, get typed results or one of
the exceptions in :mod:`wagtail_easycars.client.errors`. See docs/client.md for the error model
and docs/easycars-api.md for the API it speaks.
"""

import email.utils
import logging
import os
import time
from urllib.parse import urlsplit

import httpx
import stamina
from django.core.cache import caches

from ..conf import get_base_url, get_setting
from .breaker import CircuitBreaker
from .contract import (
    ConnectionTestResult,
    CreateLeadRequest,
    ResponseCode,
    UpdateLeadRequest,
    parse_contacts,
    parse_lead_detail,
    parse_lead_result,
    parse_quotation_result,
    parse_stock_list,
)
from .errors import (
    EasyCarsApiError,
    EasyCarsAuthenticationError,
    EasyCarsError,
    EasyCarsMalformedResponse,
    EasyCarsOutcomeUnknown,
    EasyCarsUnavailableError,
)
from .redaction import install_log_filter, redact, redact_text
from .tokens import TokenCache

__all__ = ["EasyCarsClient", "redact", "test_connection"]

logger = logging.getLogger("wagtail_easycars.client")
install_log_filter()

STOCK_SERVICE = "StockService"
LEAD_SERVICE = "LeadService"
#: SearchContacts filter that matches nobody: the cheapest call that checks the account pair.
CONNECTION_TEST_EMAIL = "connection-test@invalid.example"


class _Transient(Exception):
    """A failure worth retrying. ``maybe_processed``: the request may have reached EasyCars."""

    def __init__(self, reason, *, retry_after=None, maybe_processed=False, malformed=False, code=None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.maybe_processed = maybe_processed
        self.malformed = malformed
        self.code = code


def _retry_hook(exc):
    if not isinstance(exc, _Transient):
        return False
    return exc.retry_after if exc.retry_after is not None else True


def _retry_after_seconds(value):
    """Seconds from a Retry-After header (delta-seconds or HTTP date); ``None`` if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_invalid_token(data):
    message = str(data.get("ErrorMessage") or "").lower()
    return data.get("Code") == ResponseCode.AUTHENTICATION_FAIL and "token" in message


class EasyCarsClient:
    """One dealership's connection to EasyCars. Cheap to create; close it or use ``with``."""

    def __init__(self, account, *, cache=None, transport=None, timeout=None):
        self.account = account
        self._cache = cache
        self._transport = transport
        self._timeout = timeout
        self._http = None
        self._pid = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<EasyCarsClient {self.account.label or self.account.account_number} ({self.account.environment})>"

    def close(self):
        if self._http is not None and self._pid == os.getpid():
            self._http.close()
        self._http = None

    # Public calls ----------------------------------------------------------------------------

    def get_advertisement_stocks(self, yard_code=None):
        """The whole stock list (of one yard when ``yard_code`` is given)."""
        body = {} if yard_code is None else {"YardCode": yard_code}
        state = {}
        result = self._call(STOCK_SERVICE, "GetAdvertisementStocks", body, parse_stock_list, state=state)
        result.body = state.get("body", b"")
        return result

    def create_lead(self, request: CreateLeadRequest):
        """Create a lead. Never retried once it may have reached EasyCars (see EasyCarsOutcomeUnknown)."""
        return self._call(
            LEAD_SERVICE,
            "CreateLead",
            request.to_payload(),
            lambda data, warning: parse_lead_result(data, "LeadService/CreateLead", warning),
            idempotent=False,
        )

    def update_lead(self, request: UpdateLeadRequest):
        return self._call(
            LEAD_SERVICE,
            "UpdateLead",
            request.to_payload(),
            lambda data, warning: parse_lead_result(data, "LeadService/UpdateLead", warning),
        )

    def get_lead_detail(self, lead_number):
        return self._call(LEAD_SERVICE, "GetLeadDetail", {"LeadNumber": lead_number}, parse_lead_detail)

    def search_contacts(self, name=None, email=None, phone=None):
        filters = {"Name": name, "Email": email, "Phone": phone}
        body = {key: value for key, value in filters.items() if value}
        if not body:
            raise ValueError("search_contacts needs at least one of name, email or phone")
        return self._call(LEAD_SERVICE, "SearchContacts", body, lambda data, warning: parse_contacts(data))

    def create_quotation(self, payload):
        """Create a quotation from a PascalCase CreateQuotation body (without the account pair)."""
        return self._call(LEAD_SERVICE, "CreateQuotation", dict(payload), parse_quotation_result, idempotent=False)

    def test_connection(self):
        """Check both credential pairs; returns a :class:`ConnectionTestResult`, never raises."""
        try:
            host = urlsplit(get_base_url(self.account.environment)).hostname or "?"
            token = self._with_retries(
                lambda num: self._request_token(LEAD_SERVICE, num), "LeadService/RequestToken", retries=1
            )
        except EasyCarsAuthenticationError:
            return ConnectionTestResult(False, "client", "EasyCars rejected the Client ID or Client Secret.")
        except EasyCarsUnavailableError as exc:
            return ConnectionTestResult(False, None, f"Could not reach EasyCars at {host}: {exc}")
        except (EasyCarsError, KeyError) as exc:
            return ConnectionTestResult(False, None, f"The connection test failed: {exc}")
        self._token_cache().store(LEAD_SERVICE, token)
        try:
            self._call(
                LEAD_SERVICE,
                "SearchContacts",
                {"Email": CONNECTION_TEST_EMAIL},
                lambda data, warning: parse_contacts(data),
                use_breaker=False,
                retries=1,
            )
        except EasyCarsAuthenticationError as exc:
            if exc.pair == "account":
                return ConnectionTestResult(False, "account", "EasyCars rejected the Account Number or Account Secret.")
            return ConnectionTestResult(False, None, str(exc))
        except EasyCarsUnavailableError as exc:
            return ConnectionTestResult(False, None, f"Could not reach EasyCars at {host}: {exc}")
        except EasyCarsError as exc:
            return ConnectionTestResult(False, None, f"The connection test failed: {exc}")
        return ConnectionTestResult(
            True, None, f"Connected to EasyCars ({self.account.environment}) as {self.account.account_number}."
        )

    # Plumbing --------------------------------------------------------------------------------

    @property
    def cache(self):
        return self._cache if self._cache is not None else caches[get_setting("CACHE_ALIAS")]

    def _token_cache(self):
        base_url = get_base_url(self.account.environment)
        return TokenCache(self.cache, self.account.environment, base_url, self.account.client_id)

    def breaker(self):
        return CircuitBreaker(self.cache, self.account.environment, self.account.account_number, self.account.label)

    def _client(self):
        # Workers are forked: a client inherited from the parent shares its sockets, so start afresh.
        if self._http is None or self._pid != os.getpid():
            timeout = self._timeout
            if timeout is None:
                timeout = httpx.Timeout(get_setting("READ_TIMEOUT"), connect=get_setting("CONNECT_TIMEOUT"))
            size = get_setting("MAX_CONNECTIONS")
            self._http = httpx.Client(
                timeout=timeout,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                transport=self._transport,
            )
            self._pid = os.getpid()
        return self._http

    def _url(self, service, operation):
        return f"{get_base_url(self.account.environment)}/{service}/{operation}"

    def _call(self, service, operation, body, parse, *, idempotent=True, use_breaker=True, retries=None, state=None):
        """``state`` (a dict) receives ``"body"``: the bytes of the answer that was used."""
        endpoint = f"{service}/{operation}"
        breaker = self.breaker() if use_breaker else None
        trial = breaker.before_call() if breaker else False
        state = {} if state is None else state
        try:
            data, warning = self._with_retries(
                lambda num: self._attempt(service, operation, body, num, idempotent, state),
                endpoint,
                idempotent=idempotent,
                retries=retries,
            )
            result = self._parse(parse, data, warning, operation, idempotent)
        except EasyCarsUnavailableError:
            if breaker:
                breaker.record_failure(trial)
            raise
        except EasyCarsError:
            # EasyCars answered (a refusal is still an answer): the service is up.
            if breaker:
                breaker.record_success(trial)
            raise
        if breaker:
            breaker.record_success(trial)
        return result

    def _parse(self, parse, data, warning, operation, idempotent):
        try:
            return parse(data, warning)
        except EasyCarsMalformedResponse as exc:
            if idempotent:
                raise
            # EasyCars answered Code 0 or 5, so it did the work; only the answer is unreadable.
            raise self._outcome_unknown(operation, exc.message) from None

    def _with_retries(self, attempt_fn, endpoint, *, idempotent=True, retries=None):
        retries = get_setting("MAX_RETRIES") if retries is None else retries
        initial = get_setting("RETRY_INITIAL_DELAY")
        try:
            for attempt in stamina.retry_context(
                on=_retry_hook,
                attempts=retries + 1,
                timeout=None,
                wait_initial=initial,
                wait_max=get_setting("RETRY_MAX_DELAY"),
                wait_jitter=initial,
            ):
                with attempt:
                    return attempt_fn(attempt.num)
        except _Transient as exc:
            tries = retries + 1
            operation = endpoint.split("/")[-1]
            error_class = EasyCarsMalformedResponse if exc.malformed else EasyCarsUnavailableError
            raise error_class(
                f"EasyCars did not give a usable answer to {operation} in {tries} attempt(s) "
                f"({exc.reason}). Try again later.",
                code=exc.code,
                endpoint=endpoint,
                dealership=self.account.label,
            ) from None

    def _attempt(self, service, operation, body, num, idempotent, state):
        tokens = self._token_cache()
        while True:
            token = tokens.get(service)
            if token is None:
                token = self._request_token(service, num)
                tokens.store(service, token)
            data = self._post(service, operation, body, token, num, idempotent, state)
            if not _is_invalid_token(data):
                return self._interpret(data, service, operation, idempotent)
            tokens.discard(service, token)
            # Renew once per call: a second rejection of a fresh token is not a stale-token problem.
            if state.setdefault("renewed", False):
                raise EasyCarsAuthenticationError(
                    f"EasyCars rejected a freshly issued token for {operation}; check the Client ID and "
                    "that the account is enabled for API access.",
                    code=ResponseCode.AUTHENTICATION_FAIL,
                    endpoint=f"{service}/{operation}",
                    dealership=self.account.label,
                )
            state["renewed"] = True

    def _request_token(self, service, num):
        endpoint = f"{service}/RequestToken"
        params = {"ClientID": self.account.client_id, "ClientSecret": self.account.client_secret}
        response = self._send(endpoint, self._url(service, "RequestToken"), num, params=params, content=b"")
        data = self._envelope(response, endpoint, sent=False, attempt=num)
        code, message = data["Code"], data.get("ErrorMessage")
        token = data.get("Token")
        if code in (ResponseCode.SUCCESS, ResponseCode.WARNING) and isinstance(token, str) and token:
            return token
        if code == ResponseCode.AUTHENTICATION_FAIL:
            raise EasyCarsAuthenticationError(
                f"EasyCars rejected the Client ID or Client Secret for {self._who()}.",
                pair="client",
                code=code,
                endpoint=endpoint,
                dealership=self.account.label,
            )
        if code == ResponseCode.SYSTEM_ERROR:
            raise _Transient(f"system error: {redact_text(str(message))}", code=code)
        if code == ResponseCode.SUCCESS:
            raise EasyCarsMalformedResponse(
                "EasyCars answered RequestToken without a token.", endpoint=endpoint, code=code
            )
        raise EasyCarsApiError(
            f"EasyCars refused a token for {self._who()}: {redact_text(str(message))}",
            error_message=message,
            code=code,
            endpoint=endpoint,
            dealership=self.account.label,
        )

    def _post(self, service, operation, body, token, num, idempotent, state):
        endpoint = f"{service}/{operation}"
        payload = {
            "AccountNumber": self.account.account_number,
            "AccountSecret": self.account.account_secret,
            **body,
        }
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = self._send(endpoint, self._url(service, operation), num, json=payload, headers=headers)
            if not idempotent:
                self._check_create_status(response, operation)
            data = self._envelope(response, endpoint, sent=True, attempt=num)
            state["body"] = response.content
            return data
        except _Transient as exc:
            if exc.maybe_processed and not idempotent:
                raise self._outcome_unknown(operation, exc.reason) from None
            raise

    def _check_create_status(self, response, operation):
        """A create answered 408, 429 or 5xx proves nothing: it is outcome-unknown, never retried.

        A gateway in front of EasyCars can answer 502/503/504 (or 429) after the backend did the
        work, and a 503 or 429 from EasyCars itself does not say it did nothing either; only a
        refused connection (nothing sent) does, and that never gets this far.
        """
        status = response.status_code
        if status in (408, 429) or status >= 500:
            logger.warning(
                "EasyCars %s/%s answered HTTP %s; its outcome is unknown",
                LEAD_SERVICE,
                operation,
                status,
                extra={"dealership": self.account.label, "endpoint": f"{LEAD_SERVICE}/{operation}", "code": None},
            )
            raise self._outcome_unknown(operation, f"HTTP {status}")

    def _outcome_unknown(self, operation, reason):
        return EasyCarsOutcomeUnknown(
            f"{operation} for {self._who()} may or may not have been recorded by EasyCars ({reason}); "
            "it will be checked before being sent again.",
            endpoint=f"{LEAD_SERVICE}/{operation}",
            dealership=self.account.label,
        )

    def _send(self, endpoint, url, num, **kwargs):
        start = time.monotonic()
        extra = {"dealership": self.account.label, "endpoint": endpoint, "attempt": num, "code": None}
        try:
            response = self._client().post(url, **kwargs)
            # httpx 0.28 binds each response and its (already read and closed) stream in a
            # reference cycle (encode/httpx#3733), so a body is only freed by a full garbage
            # collection: each 40 MB stock list of a big dealership stayed in a worker's memory.
            response.stream = httpx.ByteStream(b"")
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            reason = f"could not connect: {type(exc).__name__}"
            self._log_failure(reason, extra, start)
            raise _Transient(reason) from None
        except httpx.TransportError as exc:
            reason = f"no complete answer: {type(exc).__name__}"
            self._log_failure(reason, extra, start)
            raise _Transient(reason, maybe_processed=True) from None
        extra["duration_ms"] = round((time.monotonic() - start) * 1000)
        logger.debug("EasyCars %s answered HTTP %s", endpoint, response.status_code, extra=extra)
        return response

    def _log_failure(self, reason, extra, start):
        extra["duration_ms"] = round((time.monotonic() - start) * 1000)
        logger.warning("EasyCars %s failed: %s", extra["endpoint"], reason, extra=extra)

    def _envelope(self, response, endpoint, *, sent, attempt=None):
        """The JSON envelope of ``response``; transient HTTP answers raise :class:`_Transient`."""
        status = response.status_code
        # Only a request that was sent can have been processed (creates never reach here with 408/429/5xx).
        maybe_processed = sent
        if status == 429:
            delay = _retry_after_seconds(response.headers.get("Retry-After"))
            if delay is not None and delay > get_setting("RETRY_AFTER_MAX"):
                raise EasyCarsUnavailableError(
                    f"EasyCars is rate limiting {self._who()} and asked to wait {round(delay)} s; try again later.",
                    endpoint=endpoint,
                    dealership=self.account.label,
                )
            raise _Transient("rate limited (HTTP 429)", retry_after=delay)
        if status == 408 or status >= 500:
            raise _Transient(f"HTTP {status}", maybe_processed=maybe_processed)
        try:
            data = response.json()
        except ValueError:
            data = None
        code = data.get("Code") if isinstance(data, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            if status >= 400:
                raise EasyCarsApiError(
                    f"EasyCars answered HTTP {status} for {endpoint}; check the "
                    f"{self.account.environment!r} entry of WAGTAIL_EASYCARS['BASE_URLS'].",
                    endpoint=endpoint,
                    dealership=self.account.label,
                )
            raise _Transient(
                f"the answer was not EasyCars JSON (HTTP {status})",
                malformed=True,
                maybe_processed=maybe_processed,
            )
        logger.info(
            "EasyCars %s answered Code %s",
            endpoint,
            code,
            extra={
                "dealership": self.account.label,
                "endpoint": endpoint,
                "duration_ms": round(response.elapsed.total_seconds() * 1000),
                "attempt": attempt,
                "code": code,
            },
        )
        return data

    def _interpret(self, data, service, operation, idempotent):
        """(data, warning) for Codes 0 and 5; the matching exception for the others."""
        endpoint = f"{service}/{operation}"
        code = data["Code"]
        message = redact_text(str(data.get("ErrorMessage") or ""))
        if code == ResponseCode.SUCCESS:
            return data, None
        if code == ResponseCode.WARNING:
            return data, message or "EasyCars returned a warning without a message."
        common = {"code": code, "endpoint": endpoint, "dealership": self.account.label}
        if code == ResponseCode.AUTHENTICATION_FAIL:
            raise EasyCarsAuthenticationError(
                f"EasyCars rejected the Account Number or Account Secret for {self._who()}"
                + (f" ({message})" if message else "."),
                pair="account",
                **common,
            )
        if code == ResponseCode.FAILED:
            raise EasyCarsApiError(
                f"EasyCars refused {operation}: {message or 'no reason given'}", error_message=message, **common
            )
        if code == ResponseCode.SYSTEM_ERROR:
            if not idempotent:
                raise self._outcome_unknown(operation, f"system error: {message}")
            raise _Transient(f"system error: {message}", code=code)
        raise EasyCarsApiError(
            f"EasyCars answered {operation} with an undocumented Code {code}: {message}",
            error_message=message,
            **common,
        )

    def _who(self):
        return self.account.label or f"account …{self.account.account_number[-4:]}"


def test_connection(account):
    """Check both credential pairs of ``account`` (see :meth:`EasyCarsClient.test_connection`)."""
    with EasyCarsClient(account) as client:
        return client.test_connection()


# Not a test, whatever pytest's collector thinks.
test_connection.__test__ = False
