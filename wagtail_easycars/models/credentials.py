import unicodedata

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import crypto
from .dealerships import Dealership

SECRET_FIELDS = ("client_id", "client_secret", "account_number", "account_secret")


def secret_value_problem(value, *, spaces=False):
    """Why ``value`` cannot be an EasyCars credential value, or None; never quotes the value.

    EasyCars issues GUIDs and account numbers: a space (unless ``spaces``), a control or invisible
    character, a lone surrogate or the replacement character is a paste or encoding accident.
    """
    for char in str(value):
        if char.isspace() and not (spaces and char == " "):
            return gettext("Remove the spaces: EasyCars credentials have none.")
        if unicodedata.category(char).startswith("C") or char == "\ufffd":
            return gettext(
                "Remove the control or invisible characters: type the value again, or paste it as plain text."
            )
    return None


class EncryptedSecret:
    """Descriptor giving plaintext access to an ``<name>_encrypted`` column.

    Decryption happens on access. Assignment goes through :meth:`EasyCarsCredential.set_secrets`,
    so the other three are re-written under the same key. The associated data binds the
    ciphertext to this dealership and field, so it cannot be moved to another row or column.
    """

    def __set_name__(self, owner, name):
        self.name = name
        self.column = f"{name}_encrypted"

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        token = getattr(instance, self.column)
        if not token:
            return ""
        return crypto.decrypt(token, instance.associated_data(self.name), context=instance.secret_context(self.name))

    def __set__(self, instance, value):
        instance.set_secrets(**{self.name: value or ""})


class EasyCarsCredential(models.Model):
    class Environment(models.TextChoices):
        TEST = "test", _("Test")
        PRODUCTION = "production", _("Production")

    dealership = models.OneToOneField(
        Dealership, on_delete=models.CASCADE, related_name="easycars_credential", verbose_name=_("dealership")
    )
    environment = models.CharField(
        _("environment"), max_length=20, choices=Environment.choices, default=Environment.TEST
    )
    client_id_encrypted = models.TextField(editable=False)
    client_secret_encrypted = models.TextField(editable=False)
    account_number_encrypted = models.TextField(editable=False)
    account_secret_encrypted = models.TextField(editable=False)
    # Kept in clear so the admin can show "…1234" without holding the key.
    account_number_last4 = models.CharField(max_length=4, blank=True, editable=False)
    yard_code = models.CharField(_("yard code"), max_length=50, blank=True)
    is_active = models.BooleanField(_("syncing enabled"), default=True)

    class PauseReason(models.TextChoices):
        MANUAL = "manual", _("Paused by a user")
        AUTH_FAILURES = "auth_failures", _("Paused automatically: EasyCars refused the credentials repeatedly")

    # Why syncing is off (blank while it is on). Auto-pause protects the EasyCars account from a lockout.
    paused_reason = models.CharField(_("paused because"), max_length=20, choices=PauseReason.choices, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    # Consecutive runs EasyCars refused for the credentials; reset by any accepted call.
    auth_failure_count = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)

    client_id = EncryptedSecret()
    client_secret = EncryptedSecret()
    account_number = EncryptedSecret()
    account_secret = EncryptedSecret()

    class Meta:
        verbose_name = _("EasyCars credential")
        verbose_name_plural = _("EasyCars credentials")
        indexes = [models.Index(fields=["is_active"], name="easycars_cred_active_idx")]
        permissions = [("manage_credentials", _("Can manage EasyCars credentials"))]

    def __str__(self):
        return _("EasyCars credentials for %(dealership)s") % {"dealership": self.dealership}

    def __repr__(self):
        return f"<EasyCarsCredential dealership={self.dealership_id} environment={self.environment}>"

    def associated_data(self, field):
        if not self.dealership_id:
            raise ValueError("Assign the dealership before setting or reading EasyCars secrets.")
        return f"wagtail_easycars:credential:{self.dealership_id}:{field}"

    def secret_context(self, field):
        return f"the EasyCars {field.replace('_', ' ')} of dealership {self.dealership_id}"

    def set_secrets(self, *, client_id=None, client_secret=None, account_number=None, account_secret=None):
        """Set any of the four secrets (``None`` keeps the stored value, ``""`` clears it).

        All four are written together under the newest key, or none is: the kept values are
        decrypted first, and one this process cannot read raises
        :class:`~wagtail_easycars.crypto.SecretDecryptionError` before anything changes, so a row
        never mixes a value only this key reads with values only another key reads. A value with
        spaces or control characters raises ``ValueError`` (naming the field, not the value).
        """
        given = dict(zip(SECRET_FIELDS, (client_id, client_secret, account_number, account_secret), strict=True))
        for field, value in given.items():
            problem = None if value is None else secret_value_problem(value)
            if problem:
                raise ValueError(f"The EasyCars {field.replace('_', ' ')} was not saved. {problem}")
        stored = self.read_secrets(except_fields=[field for field, value in given.items() if value is not None])
        values = {field: str(value) if value is not None else stored[field] for field, value in given.items()}
        keyring = crypto.load_keyring()
        for field, value in values.items():
            token = crypto.encrypt(value, self.associated_data(field), keyring=keyring) if value else ""
            setattr(self, f"{field}_encrypted", token)
        if account_number is not None:
            self.account_number_last4 = str(account_number)[-4:]

    def read_secrets(self, except_fields=()):
        """The stored secrets in clear, ``{field: value}``; ``SecretDecryptionError`` for the first unreadable one."""
        return {field: getattr(self, field) for field in SECRET_FIELDS if field not in except_fields}

    def unreadable_secret_error(self):
        """Why this process cannot decrypt the stored secrets, or None.

        The ``SecretDecryptionError`` of the first unreadable one, or the ``EncryptionKeyError``
        when no usable key is configured at all.
        """
        try:
            self.read_secrets()
        except (crypto.SecretDecryptionError, crypto.EncryptionKeyError) as exc:
            return exc
        return None

    @property
    def is_configured(self):
        return all(getattr(self, f"{field}_encrypted") for field in SECRET_FIELDS)

    @property
    def masked_account_number(self):
        return f"…{self.account_number_last4}" if self.account_number_last4 else ""

    def rotate_encryption(self):
        """Re-encrypt every secret under the newest key; returns True when something changed."""
        newest = crypto.current_key_id()
        tokens = [getattr(self, f"{field}_encrypted") for field in SECRET_FIELDS]
        if all(crypto.key_id_of(token) == newest for token in tokens if token):
            return False
        self.set_secrets()
        return True
