"""The client's exceptions: one per thing an editor or the sync can act on.

Messages never contain credentials, bearer tokens or URLs with a query string.
"""


class EasyCarsError(Exception):
    """Base class for every error the EasyCars client raises."""

    def __init__(self, message, *, code=None, endpoint=None, dealership=None):
        super().__init__(message)
        self.message = message
        #: The envelope ``Code`` when EasyCars answered with one.
        self.code = code
        #: ``"LeadService/CreateLead"`` style name of the call that failed.
        self.endpoint = endpoint
        #: The account label (dealership slug) the call was made for.
        self.dealership = dealership

    def __str__(self):
        return self.message


class EasyCarsAuthenticationError(EasyCarsError):
    """EasyCars answered Code 1: a credential pair was rejected.

    ``pair`` is ``"client"`` (Client ID/Secret), ``"account"`` (Account Number/Secret) or
    ``None`` when EasyCars kept rejecting freshly issued tokens.
    """

    def __init__(self, message, *, pair=None, **kwargs):
        super().__init__(message, **kwargs)
        self.pair = pair


class EasyCarsApiError(EasyCarsError):
    """EasyCars refused the request (Code 7 or another non-retryable answer).

    Retrying the same request will fail the same way: fix the data or the configuration.
    """

    def __init__(self, message, *, error_message=None, **kwargs):
        super().__init__(message, **kwargs)
        #: EasyCars' own ``ErrorMessage``, verbatim.
        self.error_message = error_message


class EasyCarsUnavailableError(EasyCarsError):
    """EasyCars could not be reached or kept failing after the retries; try again later."""


class EasyCarsMalformedResponse(EasyCarsUnavailableError):
    """EasyCars answered with something that is not the JSON envelope (docs/easycars-api.md#response-envelope)."""


class EasyCarsOutcomeUnknown(EasyCarsUnavailableError):
    """A create request (CreateLead, CreateQuotation) was sent and the answer does not say what happened.

    Raised, and never retried by the client, for a timeout or dropped connection after sending,
    HTTP 408, 429 or any 5xx (a gateway can answer so after EasyCars did the work), Code 9, or
    an unreadable answer. The record may or may not exist now, or may appear later: reconcile
    (GetLeadDetail, SearchContacts) after a quiet period before sending it again. Only a refused
    connection proves nothing was sent; that is an ordinary :class:`EasyCarsUnavailableError`.
    """


class EasyCarsCircuitOpen(EasyCarsUnavailableError):
    """Recent calls for this account kept failing, so calls are paused for a while."""
