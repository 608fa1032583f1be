"""The EasyCars settings form: credentials in, never back out.

Secret fields are never pre-filled and never echoed: on edit a blank secret keeps the stored value.
A connection test remembers a keyed fingerprint of the values it accepted (never the values), so
"Save" can require a successful test of exactly what is being saved. A blank field falls back on
the stored value only when this process can read every stored value (docs/keys.md).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from .. import crypto
from ..client.contract import ACCOUNT_NUMBER_MAX_LENGTH, ACCOUNT_SECRET_MAX_LENGTH, EasyCarsAccount
from ..models import EasyCarsCredential
from ..models.credentials import secret_value_problem
from .services import SECRET_FIELD_NAMES, UNREADABLE_CREDENTIALS_MESSAGE, save_credential

TESTED_SESSION_KEY = "wagtail_easycars_tested"
#: A passing test is good enough to save for this long.
TEST_VALID_SECONDS = 30 * 60


def validate_secret_characters(value):
    """No spaces, control or invisible characters, lone surrogates (from JSON) or U+FFFD in a credential."""
    problem = secret_value_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_characters")


def validate_yard_code_characters(value):
    """As :func:`validate_secret_characters`, but a yard code may have spaces."""
    problem = secret_value_problem(value, spaces=True)
    if problem:
        raise ValidationError(problem, code="invalid_characters")


def _secret_input(placeholder):
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "placeholder": placeholder})


class UnrenderedTextInput(forms.TextInput):
    """A text input that never writes a value into the page (a typed identifier is not echoed back)."""

    def format_value(self, value):
        return None


def _text_input(placeholder):
    return UnrenderedTextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": placeholder})


class CredentialForm(forms.Form):
    environment = forms.ChoiceField(
        label=_("Environment"),
        choices=EasyCarsCredential.Environment.choices,
        initial=EasyCarsCredential.Environment.TEST,
        help_text=_("Use Test with the credentials EasyCars issued for its test system, Production for live data."),
    )
    client_id = forms.CharField(
        label=_("Client ID"),
        max_length=100,
        help_text=_("Issued by EasyCars for your API access: a GUID such as 1A2B3C4D-0000-0000-0000-000000000000."),
        validators=[validate_secret_characters],
    )
    client_secret = forms.CharField(
        label=_("Client Secret"),
        max_length=100,
        help_text=_("Issued by EasyCars together with the Client ID (also a GUID)."),
        validators=[validate_secret_characters],
    )
    account_number = forms.CharField(
        label=_("Account Number"),
        max_length=ACCOUNT_NUMBER_MAX_LENGTH,
        help_text=_("Your dealership's account number, provided by EasyCars: EC followed by digits."),
        validators=[validate_secret_characters],
    )
    account_secret = forms.CharField(
        label=_("Account Secret"),
        max_length=ACCOUNT_SECRET_MAX_LENGTH,
        help_text=_("The secret EasyCars provided with that account number (a GUID)."),
        validators=[validate_secret_characters],
    )
    yard_code = forms.CharField(
        label=_("Yard code"),
        max_length=50,
        required=False,
        help_text=_("Only sync the stock of this yard. Leave blank for every yard of the account."),
        validators=[validate_yard_code_characters],
    )
    save_without_testing = forms.BooleanField(
        label=_("Save without testing"),
        required=False,
        help_text=_("Save even though the connection has not been tested successfully."),
    )

    def __init__(self, *args, credential=None, **kwargs):
        self.credential = credential if credential is not None and credential.pk else None
        initial = kwargs.setdefault("initial", {})
        if self.credential is not None:
            initial.setdefault("environment", self.credential.environment)
            initial.setdefault("yard_code", self.credential.yard_code)
        super().__init__(*args, **kwargs)
        placeholders = {
            "client_id": _("00000000-0000-0000-0000-000000000000"),
            "client_secret": "",
            "account_number": _("e.g. EC123456"),
            "account_secret": "",
        }
        for name in SECRET_FIELD_NAMES:
            field = self.fields[name]
            placeholder = placeholders[name]
            if self.credential is not None and self.credential.is_configured:
                # Editing: the stored value stays unless a new one is typed.
                field.required = False
                placeholder = _("Saved — leave blank to keep")
            is_secret = name.endswith("secret")
            field.widget = _secret_input(placeholder) if is_secret else _text_input(placeholder)

    def clean(self):
        cleaned = super().clean()
        for name in SECRET_FIELD_NAMES:
            value = cleaned.get(name)
            if value is not None:
                cleaned[name] = value.strip()
        self.stored_secrets = self._stored_fallbacks(cleaned)
        return cleaned

    def _stored_fallbacks(self, cleaned):
        """The stored values blank fields keep; a form error when this site's keys cannot read them all.

        Saving re-writes all four under the current key, so a blank field needs every stored value
        readable; otherwise the editor must type all four (or fix the key).
        """
        try:
            crypto.load_keyring()
        except crypto.EncryptionKeyError as exc:
            raise ValidationError(str(exc), code="encryption_key_missing") from None
        blank = [name for name in SECRET_FIELD_NAMES if not cleaned.get(name) and name not in self.errors]
        if self.credential is None or not blank:
            return {}
        try:
            return self.credential.read_secrets()
        except crypto.SecretDecryptionError:
            raise ValidationError(UNREADABLE_CREDENTIALS_MESSAGE, code="credentials_unreadable") from None

    def changed_secret_names(self):
        return [name for name in SECRET_FIELD_NAMES if self.cleaned_data.get(name)]

    def effective_account(self):
        """The account the form describes: typed values, falling back on the stored ones (after ``is_valid``)."""
        stored = getattr(self, "stored_secrets", {})
        values = {name: self.cleaned_data.get(name) or stored.get(name, "") for name in SECRET_FIELD_NAMES}
        label = self.credential.dealership.slug if self.credential is not None else ""
        return EasyCarsAccount(environment=self.cleaned_data["environment"], label=label, **values)

    # A successful test, remembered without the secrets ------------------------------------

    @staticmethod
    def fingerprint(account, dealership):
        material = "\x1f".join(
            [str(dealership.pk), account.environment, account.client_id, account.client_secret]
            + [account.account_number, account.account_secret]
        )
        return salted_hmac("wagtail_easycars.connection-test", material, algorithm="sha256").hexdigest()

    @classmethod
    def remember_successful_test(cls, request, account, dealership):
        request.session[TESTED_SESSION_KEY] = {
            "fingerprint": cls.fingerprint(account, dealership),
            "at": timezone.now().timestamp(),
        }

    def was_tested(self, request, dealership):
        remembered = request.session.get(TESTED_SESSION_KEY) or {}
        if timezone.now().timestamp() - remembered.get("at", 0) > TEST_VALID_SECONDS:
            return False
        expected = self.fingerprint(self.effective_account(), dealership)
        return constant_time_compare(remembered.get("fingerprint", ""), expected)

    def validate_for_save(self, request, dealership):
        """Adds a form error unless the values were tested or "save without testing" is ticked."""
        if not self.is_valid():
            return False
        if self.cleaned_data.get("save_without_testing") or self.was_tested(request, dealership):
            return True
        self.add_error(
            None,
            _('Test the connection first, or tick "Save without testing" to save these credentials anyway.'),
        )
        return False

    def save(self, dealership, user, *, tested):
        secrets = {name: self.cleaned_data.get(name) or None for name in SECRET_FIELD_NAMES}
        return save_credential(
            dealership,
            user,
            environment=self.cleaned_data["environment"],
            yard_code=self.cleaned_data.get("yard_code", ""),
            secrets=secrets,
            tested=tested,
        )
