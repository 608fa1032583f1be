"""The enquiry form on every vehicle page, and its spam guards (a honeypot and a per-IP rate limit)."""

import re
import unicodedata
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from ..models import EnquiryRateCounter, Lead

PHONE_RE = re.compile(r"^\+?[\d\s().-]{6,20}$")
RATE_LIMIT_WINDOW = 60 * 60  # ENQUIRY_RATE_LIMIT is per hour
#: Line breaks and tabs a shopper may type in the message; no other control character is kept.
MESSAGE_WHITESPACE = "\t\n\r"


def _control_characters_validator(allowed=""):
    """A validator refusing control characters (bar ``allowed``) and lone surrogates.

    They are never typed by a person; stored, they would reach the dealer's EasyCars lead as garbage.
    NUL is left to Django's own validator, so it is not reported twice.
    """

    def validate(value):
        for char in value:
            if char in allowed or char == "\x00":
                continue
            if unicodedata.category(char) in ("Cc", "Cs"):
                raise ValidationError(_("Remove the control characters from this field."), code="control_characters")

    return validate


class EnquiryForm(forms.ModelForm):
    """Name, contact details, interest, finance and a message; ``website`` is the honeypot.

    The honeypot is hidden from people (off-screen, out of the tab order, ignored by assistive
    technology) but bots that fill every field fill it too.
    """

    honeypot_field = "website"

    website = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    message = forms.CharField(
        label=_("Message"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )

    class Meta:
        model = Lead
        fields = ["name", "email", "phone", "vehicle_interest", "finance_status", "message"]
        labels = {
            "name": _("Your name"),
            "email": _("Email"),
            "phone": _("Phone"),
            "vehicle_interest": _("I'd like to"),
            "finance_status": _("Interested in finance?"),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        }

    def __init__(self, *args, vehicle=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.vehicle = vehicle
        self.fields["vehicle_interest"].choices = Lead.VehicleInterest.choices
        self.fields["finance_status"] = forms.ChoiceField(
            label=_("Interested in finance?"),
            choices=Lead.FinanceStatus.choices,
            widget=forms.RadioSelect,
            required=False,
        )
        if vehicle is not None and not self.is_bound:
            self.initial.setdefault("message", _("Hi, I'm interested in the %(title)s.") % {"title": vehicle.title})
        self.fields["phone"].widget.input_type = "tel"
        for name in ("name", "email", "phone", "message"):
            allowed = MESSAGE_WHITESPACE if name == "message" else ""
            self.fields[name].validators.append(_control_characters_validator(allowed))

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE_RE.match(phone):
            raise ValidationError(_("Enter a phone number using digits, spaces and + ( ) - only."))
        return phone

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and "email" not in self.errors:
            raise ValidationError(_("Please give an email address or a phone number so we can reply."))
        return cleaned

    @property
    def is_spam(self):
        """True when the honeypot was filled in (only meaningful after ``is_valid()``)."""
        return bool(self.cleaned_data.get(self.honeypot_field))

    def save(self, commit=True):
        lead = super().save(commit=False)
        lead.vehicle = self.vehicle
        lead.dealership_id = self.vehicle.dealership_id
        lead.data_source = Lead.DataSource.WEBFORM
        if commit:
            lead.save()
        return lead


def allow_enquiry(client_ip):
    """Count one enquiry for ``client_ip``; False once ``ENQUIRY_RATE_LIMIT`` were counted in its hour.

    A fixed one-hour window from the first enquiry, counted in the database with a conditional
    UPDATE (:class:`~wagtail_easycars.models.EnquiryRateCounter`), so the limit holds exactly across
    processes and servers, whatever cache the site uses. The address is stored as a keyed hash.
    """
    limit = get_setting("ENQUIRY_RATE_LIMIT")
    if not limit:
        return True
    key = salted_hmac("wagtail_easycars.enquiry-rate", client_ip or "unknown", algorithm="sha256").hexdigest()
    return EnquiryRateCounter.take(key, limit=limit, window=timedelta(seconds=RATE_LIMIT_WINDOW))
