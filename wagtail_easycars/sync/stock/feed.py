"""Fetching a dealership's stock feed: the whole GetAdvertisementStocks list, of its yard if it has one.

The run's SyncLog keeps the request with the secret redacted and the account number masked.
"""

from django.utils.translation import gettext as _

from ...crypto import EncryptionKeyError, SecretDecryptionError
from ...models import EasyCarsCredential
from ..accounts import account_for


class SyncAborted(Exception):
    """The run cannot go on (no credentials, undecryptable secrets); the message is for editors."""


def fetch_feed(dealership, log, *, client=None):
    """The dealership's stock response, fetched with its credentials (or with ``client``, if given)."""
    from ...client.http import EasyCarsClient

    credential = syncing_credential(dealership)
    yard_code = credential.yard_code.strip() or None
    log.request_payload = {
        "endpoint": "StockService/GetAdvertisementStocks",
        "AccountNumber": credential.masked_account_number,
        "AccountSecret": "***",
        **({"YardCode": yard_code} if yard_code else {}),
    }
    if client is not None:
        return client.get_advertisement_stocks(yard_code)
    try:
        account = account_for(credential)
    except (SecretDecryptionError, EncryptionKeyError) as exc:
        raise SyncAborted(_("The stored EasyCars credentials cannot be decrypted: %(error)s") % {"error": exc})
    with EasyCarsClient(account) as easycars:
        return easycars.get_advertisement_stocks(yard_code)


def syncing_credential(dealership):
    """The dealership's EasyCars credential; SyncAborted when it has none or its syncing is paused."""
    credential = EasyCarsCredential.objects.filter(dealership=dealership).first()
    if credential is None or not credential.is_configured:
        raise SyncAborted(_("This dealership has no EasyCars credentials yet."))
    # Checked here, not only where runs are requested: a command run with --now, or a task
    # queued just before an admin paused the dealership, must not call EasyCars either.
    if not credential.is_active:
        raise SyncAborted(_("EasyCars syncing is turned off for this dealership."))
    credential.dealership = dealership  # spares a query for the client's label
    return credential
