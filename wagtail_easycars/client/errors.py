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
    """A create request may have reached EasyCars but no answer came back.

    The record may or may not exist now: reconcile (SearchContacts, GetLeadDetail) before
    sending it again.
    """


class EasyCarsCircuitOpen(EasyCarsUnavailableError):
    """Recent calls for this account kept failing, so calls are paused for a while."""
