"""A dealership's stored credentials, as the EasyCars client takes them.

The client knows nothing of models; this is where a stored credential becomes an account
(decrypted here, held only in memory) and a client.
"""

from ..client.contract import EasyCarsAccount
from ..client.http import EasyCarsClient


def account_for(credential):
    """The plain credentials of an ``EasyCarsCredential``, for the API client."""
    return EasyCarsAccount(
        environment=credential.environment,
        client_id=credential.client_id,
        client_secret=credential.client_secret,
        account_number=credential.account_number,
        account_secret=credential.account_secret,
        label=credential.dealership.slug if credential.dealership_id else "",
    )


def client_for(dealership):
    """An :class:`EasyCarsClient` using this dealership's own credentials."""
    return EasyCarsClient(account_for(dealership.easycars_credential))
