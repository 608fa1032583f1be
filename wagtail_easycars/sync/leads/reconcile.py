"""Reconciling a CreateLead whose answer was lost, so EasyCars never gets an enquiry twice.

EasyCars cannot list or search leads and does not document whether a repeated ExternalID is
rejected, so a timed-out create cannot simply be re-sent. What the contract does offer is used
instead: lead numbers are issued in order, GetLeadDetail returns the ExternalID we sent, and
SearchContacts finds the customer every lead creates or reuses. docs/leads.md explains the
strategy and its limits.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from ...client.errors import EasyCarsApiError, EasyCarsAuthenticationError
from ...conf import get_setting


class UnresolvedCreate(Exception):
    """A lost CreateLead answer could not be matched to or ruled out of EasyCars' leads."""

    def __str__(self):
        return _(
            "EasyCars may already have this enquiry: an earlier attempt timed out after sending it, and it could "
            "not be found or ruled out automatically. Check the customer's leads in EasyCars, then use "
            "'Retry sync' to send it again if it is not there."
        )


@dataclass
class Reconciliation:
    #: The EasyCars lead carrying our ExternalID, when found.
    found: object = None
    #: True when the evidence says EasyCars never got the create, so sending it is safe.
    safe_to_resend: bool = False


def reconcile_create(client, external_id, *, after, known, email):
    """Find the EasyCars lead a lost CreateLead made, or show that none was made.

    1. GetLeadDetail of the lead numbers issued after the highest one we knew when the create
       was sent (LEAD_RECONCILE_WINDOW of them), looking for our ExternalID: found means adopt.
    2. Not found: SearchContacts by the lead's email. No such customer means EasyCars never
       processed the create (it creates or reuses a customer for every lead), so a re-send is
       safe. An existing customer is ambiguous (a returning customer, or a lead beyond the
       window): the lead is left for an editor to check (see docs/leads.md).

    EasyCarsUnavailableError propagates: reconciling needs EasyCars as much as sending does.
    """
    found = _scan_candidates(client, external_id, after, known)
    if found is not None:
        return Reconciliation(found=found)
    if email:
        wanted = email.strip().lower()
        contacts = client.search_contacts(email=email.strip())
        if not any(contact.email.strip().lower() == wanted for contact in contacts):
            return Reconciliation(safe_to_resend=True)
    return Reconciliation()


def _scan_candidates(client, external_id, after, known):
    """GetLeadDetail of the lead numbers after ``after`` that we do not know, looking for our ExternalID."""
    width = len(after) if after else 6
    start = int(after) + 1 if after.isdigit() else 1
    wanted = str(external_id).lower()
    probes, number = 0, start - 1
    while probes < get_setting("LEAD_RECONCILE_WINDOW"):
        number += 1
        lead_number = f"{number:0{width}d}"
        if lead_number in known:
            continue  # ours already; does not use up the window
        probes += 1
        try:
            detail = client.get_lead_detail(lead_number)
        except (EasyCarsApiError, EasyCarsAuthenticationError):
            continue  # not found, or not ours to read (another lead source's lead)
        if (detail.external_id or "").strip().lower() == wanted:
            return detail
    return None
