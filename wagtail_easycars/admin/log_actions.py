"""Audit-log actions of the package, with readable labels and messages (registered by wagtail_hooks).

Log entries keep what changed and who changed it, never a secret: the data of a credential
entry holds field names, the environment and the last four characters of the account number.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogFormatter

from ..models import Dealership, DealershipLogEntry, EasyCarsCredential, Lead, Vehicle

SECRET_LABELS = {
    "client_id": _("Client ID"),
    "client_secret": _("Client Secret"),
    "account_number": _("Account Number"),
    "account_secret": _("Account Secret"),
    "environment": _("environment"),
    "yard_code": _("yard code"),
}


def _names(names):
    return ", ".join(str(SECRET_LABELS.get(name, name)) for name in names)


class CredentialsSet(LogFormatter):
    label = _("Set EasyCars credentials")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        changed = data.get("changed_secrets") or data.get("changed_fields") or []
        if data.get("created"):
            message = gettext("Connected EasyCars")
        else:
            message = gettext("Changed the EasyCars credentials")
        if changed:
            message += " (" + _names(changed) + ")"
        if data.get("created") is not None and data.get("tested") is False:
            message += gettext(", saved without a connection test")
        return message


class CredentialsDeleted(LogFormatter):
    label = _("Delete EasyCars credentials")
    message = _("Deleted the EasyCars credentials")


class CredentialsPaused(LogFormatter):
    label = _("Pause EasyCars syncing")
    message = _("Paused EasyCars syncing")


class CredentialsResumed(LogFormatter):
    label = _("Resume EasyCars syncing")
    message = _("Resumed EasyCars syncing")


class CredentialsTested(LogFormatter):
    label = _("Test EasyCars connection")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        if data.get("ok"):
            return gettext("Tested the EasyCars connection: accepted")
        pair = {"client": gettext("Client ID/Secret"), "account": gettext("Account Number/Secret")}.get(
            data.get("failed_pair")
        )
        if pair:
            return gettext("Tested the EasyCars connection: %(pair)s rejected") % {"pair": pair}
        return gettext("Tested the EasyCars connection: failed")


class ConflictResolved(LogFormatter):
    def format_message(self, log_entry):
        data = log_entry.data or {}
        return self.message % {"field": data.get("field_label") or data.get("field", "")}


class ConflictKeptLocal(ConflictResolved):
    label = _("Keep local value (sync conflict)")
    message = _("Kept the local %(field)s over the EasyCars value")


class ConflictAcceptedEasyCars(ConflictResolved):
    label = _("Accept EasyCars value (sync conflict)")
    message = _("Accepted the EasyCars %(field)s")


class FieldUnlocked(ConflictResolved):
    label = _("Unlock field")
    message = _("Unlocked %(field)s: EasyCars manages it again")


class DuplicateResolved(LogFormatter):
    def format_message(self, log_entry):
        data = log_entry.data or {}
        return self.message % {"other": data.get("other", "")}


class DuplicateMerged(DuplicateResolved):
    label = _("Merge potential duplicate")
    message = _("Merged with '%(other)s'")


class DuplicateKeptSeparate(DuplicateResolved):
    label = _("Keep potential duplicate separate")
    message = _("Kept separate from '%(other)s'")


class LeadRetried(LogFormatter):
    label = _("Retry EasyCars sync")
    message = _("Asked for the lead to be sent to EasyCars again")


class LeadSent(LogFormatter):
    label = _("Send to EasyCars")
    message = _("Asked for the lead, saved before EasyCars was connected, to be sent to EasyCars")


#: action name -> formatter class; registered by ``wagtail_hooks.register_log_actions``.
LOG_ACTIONS = {
    "wagtail_easycars.credentials.set": CredentialsSet,
    "wagtail_easycars.credentials.delete": CredentialsDeleted,
    "wagtail_easycars.credentials.pause": CredentialsPaused,
    "wagtail_easycars.credentials.resume": CredentialsResumed,
    "wagtail_easycars.credentials.test": CredentialsTested,
    "wagtail_easycars.conflict.keep_local": ConflictKeptLocal,
    "wagtail_easycars.conflict.accept_easycars": ConflictAcceptedEasyCars,
    "wagtail_easycars.vehicle.unlock": FieldUnlocked,
    "wagtail_easycars.duplicate.merge": DuplicateMerged,
    "wagtail_easycars.duplicate.keep_separate": DuplicateKeptSeparate,
    "wagtail_easycars.lead.retry_sync": LeadRetried,
    "wagtail_easycars.lead.send": LeadSent,
}


def register_log_actions(actions):
    for action, formatter in LOG_ACTIONS.items():
        actions.register_action(action)(formatter)
    # Entries about a dealership, its credentials, vehicles and leads remember the dealership, so
    # Wagtail's Site history report shows them only to its members (see DealershipLogEntry).
    for model in (Dealership, EasyCarsCredential, Vehicle, Lead):
        actions.register_model(model, DealershipLogEntry)
