"""Reconciling a CreateLead whose outcome is unknown, so EasyCars never gets an enquiry twice.

EasyCars cannot list or search leads, does not document whether a repeated ExternalID is
rejected, nor how long it may take to finish a create, so a create whose answer proves nothing
cannot simply be re-sent. What the contract does offer is used instead: lead numbers are issued
in order, GetLeadDetail returns the ExternalID we sent, and SearchContacts finds the customer
every lead creates or reuses. EasyCars is only searched a quiet period after the send
(LEAD_RECONCILE_QUIET_SECONDS), and must show nothing twice, a quiet period apart, before the
lead is sent again. docs/leads.md explains the strategy and its limits.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils.translation import gettext as _

from ...client.errors import EasyCarsApiError, EasyCarsAuthenticationError
from ...conf import get_setting

#: Empty scans needed before a create whose outcome is unknown may be sent again.
SCANS_BEFORE_RESEND = 2


def quiet_period():
    """How long EasyCars is given to finish a create before it is looked for (and between two looks)."""
    return timedelta(seconds=get_setting("LEAD_RECONCILE_QUIET_SECONDS"))


def next_scan_at(lead):
    """When ``lead``'s unknown create may next be looked for: a quiet period after the send or the last scan."""
    last = max(filter(None, [lead.push_started_at, lead.reconcile_checked_at]))
    return last + quiet_period()


class UnresolvedCreate(Exception):
    """A lost CreateLead answer could not be matched to or ruled out of EasyCars' leads."""

    def __str__(self):
        return _(
            "EasyCars may already have this enquiry: an earlier attempt sent it without getting a clear answer, "
            "and it could not be found or ruled out automatically. Check the customer's leads in EasyCars, then "
            "use 'Retry sync' to send it again if it is not there."
        )


@dataclass
class Reconciliation:
    #: The EasyCars lead carrying our ExternalID, when found.
    found: object = None
    #: True when the evidence says EasyCars never got the create, so sending it is safe.
    safe_to_resend: bool = False
    #: True when the scan found nothing but is not the last one: look again after a quiet period.
    look_again: bool = False


def reconcile_create(client, external_id, *, after, known, email, final=True):
    """Find the EasyCars lead an unknown CreateLead made, or show that none was made.

    1. GetLeadDetail of the lead numbers issued after the highest one we knew when the create
       was sent (LEAD_RECONCILE_WINDOW of them), looking for our ExternalID: found means adopt.
    2. Not found, and not the ``final`` scan: ``look_again`` (EasyCars may still be working on it).
    3. Not found on the final scan: SearchContacts by the lead's email. No such customer means
       EasyCars never processed the create (it creates or reuses a customer for every lead), so
       a re-send is safe. An existing customer is ambiguous (a returning customer, or a lead
       beyond the window): the lead is left for an editor to check (see docs/leads.md).

    EasyCarsUnavailableError propagates: reconciling needs EasyCars as much as sending does.
    """
    found = _scan_candidates(client, external_id, after, known)
    if found is not None:
        return Reconciliation(found=found)
    if not final:
        return Reconciliation(look_again=True)
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
