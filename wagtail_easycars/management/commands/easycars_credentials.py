"""Set, show, delete and test a dealership's EasyCars credentials from the command line.

Secrets can come from environment variables instead of options, so they need not appear in
shell history or ``ps`` output. Output shows metadata and masked values only; every change is
recorded in Wagtail's audit log (the names of the changed fields, never their values).
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log

from ... import crypto
from ...models import Dealership, EasyCarsCredential
from ...models.credentials import secret_value_problem
from ...sync.accounts import account_for

#: (field, option, environment variable, maximum length per the EasyCars contract)
SECRET_OPTIONS = (
    ("client_id", "--client-id", "EASYCARS_CLIENT_ID", 100),
    ("client_secret", "--client-secret", "EASYCARS_CLIENT_SECRET", 100),
    ("account_number", "--account-number", "EASYCARS_ACCOUNT_NUMBER", 20),
    ("account_secret", "--account-secret", "EASYCARS_ACCOUNT_SECRET", 50),
)
SET_ACTION = "wagtail_easycars.credentials.set"
DELETE_ACTION = "wagtail_easycars.credentials.delete"


def mask(value):
    """``…0003`` for a long value, ``…`` alone when showing four characters would reveal most of it."""
    if not value:
        return "(not set)"
    return f"…{value[-4:]}" if len(value) >= 12 else "…"


class Command(BaseCommand):
    help = "Manage a dealership's EasyCars credentials: set, show, delete or test them."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{set,show,delete,test}")

        set_parser = actions.add_parser(
            "set",
            help="Create or update the credentials. Omitted secrets keep their stored value.",
            description=(
                "Create or update a dealership's EasyCars credentials. Each secret may instead be given in an "
                "environment variable (" + ", ".join(env for _, _, env, _ in SECRET_OPTIONS) + "), so it does "
                "not appear in shell history. An option on the command line wins over the environment."
            ),
        )
        self._add_dealership(set_parser)
        set_parser.add_argument(
            "--environment",
            choices=[choice.value for choice in EasyCarsCredential.Environment],
            help="The EasyCars environment the credentials belong to (default: test for new credentials).",
        )
        for field, option, env_var, _ in SECRET_OPTIONS:
            set_parser.add_argument(option, dest=field, help=f"Or set {env_var}.")
        set_parser.add_argument("--yard-code", help="Only sync stock from this yard (empty string clears it).")
        active = set_parser.add_mutually_exclusive_group()
        active.add_argument("--enable", dest="is_active", action="store_true", default=None, help="Enable syncing.")
        active.add_argument("--disable", dest="is_active", action="store_false", help="Disable syncing.")

        for name, text in (
            ("show", "Print the credentials' metadata and masked values."),
            ("delete", "Delete the credentials; syncing stops for the dealership."),
            ("test", "Check both credential pairs against EasyCars."),
        ):
            self._add_dealership(actions.add_parser(name, help=text, description=text))

    def _add_dealership(self, parser):
        parser.add_argument("--dealership", required=True, metavar="SLUG", help="The dealership's slug.")

    def handle(self, *args, action, dealership, **options):
        dealership = self._get_dealership(dealership)
        try:
            getattr(self, f"handle_{action}")(dealership, **options)
        except crypto.EncryptionKeyError as exc:
            raise CommandError(str(exc)) from None
        except crypto.SecretDecryptionError as exc:
            raise CommandError(f"{exc} Check the configured encryption keys (see docs/keys.md).") from None

    def _get_dealership(self, slug):
        try:
            return Dealership.objects.get(slug=slug)
        except Dealership.DoesNotExist:
            known = ", ".join(Dealership.objects.values_list("slug", flat=True)[:20]) or "none yet"
            raise CommandError(f"No dealership with slug {slug!r}. Known dealerships: {known}.") from None

    def _get_credential(self, dealership):
        try:
            return dealership.easycars_credential
        except EasyCarsCredential.DoesNotExist:
            raise CommandError(
                f"Dealership {dealership.slug!r} has no EasyCars credentials. "
                f"Add them with: manage.py easycars_credentials set --dealership {dealership.slug} ..."
            ) from None

    # set ---------------------------------------------------------------------------------------

    def _secret_values(self, options):
        values = {}
        for field, option, env_var, max_length in SECRET_OPTIONS:
            value = options.get(field)
            if value is None:
                value = os.environ.get(env_var)
            if value is None:
                continue
            value = value.strip()
            if not value:
                raise CommandError(f"{option} (or {env_var}) is empty.")
            # Never echo the value: it may be a secret pasted into the wrong option.
            if len(value) > max_length:
                raise CommandError(f"{option} (or {env_var}) must be at most {max_length} characters.")
            problem = secret_value_problem(value)
            if problem:
                raise CommandError(f"{option} (or {env_var}) was not saved. {problem}")
            values[field] = value
        return values

    def handle_set(self, dealership, *, environment=None, yard_code=None, is_active=None, **options):
        secrets = self._secret_values(options)
        crypto.load_keyring()  # fail before touching the database when no key is configured
        with transaction.atomic():
            credential = EasyCarsCredential.objects.select_for_update().filter(dealership=dealership).first()
            created = credential is None
            if created:
                missing = [
                    f"{option} (or {env_var})" for field, option, env_var, _ in SECRET_OPTIONS if field not in secrets
                ]
                if missing:
                    raise CommandError(f"New credentials need every secret; missing: {', '.join(missing)}.")
                credential = EasyCarsCredential(dealership=dealership)
            changed = sorted(secrets)
            if environment is not None and environment != credential.environment:
                credential.environment = environment
                changed.append("environment")
            if yard_code is not None and yard_code.strip() != credential.yard_code:
                credential.yard_code = yard_code.strip()
                changed.append("yard_code")
            if is_active is not None and is_active != credential.is_active:
                credential.is_active = is_active
                changed.append("is_active")
            if not changed and not created:
                self.stdout.write(f"Nothing to change for {dealership.slug}: give at least one option to update.")
                return
            self._set_secrets(credential, secrets)
            credential.updated_by = None
            credential.save()
            log(
                credential,
                SET_ACTION,
                user=None,
                data={"dealership": dealership.slug, "created": created, "changed_fields": sorted(changed)},
            )
        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} EasyCars credentials for {dealership.slug} ({credential.environment}); "
                f"changed: {', '.join(sorted(changed))}."
            )
        )

    def _set_secrets(self, credential, secrets):
        """All four under the current key, or a CommandError when a kept value cannot be read."""
        try:
            credential.set_secrets(**secrets)
        except crypto.SecretDecryptionError as exc:
            options = ", ".join(option for _, option, _, _ in SECRET_OPTIONS)
            raise CommandError(
                f"{exc} The stored credentials cannot be read with this site's encryption key: give all four "
                f"values ({options}) to replace them, or fix the key (see docs/keys.md). Nothing was changed."
            ) from None

    # show / delete / test ------------------------------------------------------------------

    def handle_show(self, dealership, **options):
        credential = self._get_credential(dealership)
        rows = [
            ("Dealership", f"{dealership.name} ({dealership.slug})"),
            ("Environment", credential.get_environment_display()),
            ("Syncing enabled", "yes" if credential.is_active else "no"),
            ("Yard code", credential.yard_code or "(all yards)"),
            ("Client ID", mask(credential.client_id)),
            ("Client secret", mask(credential.client_secret)),
            ("Account number", credential.masked_account_number or "(not set)"),
            ("Account secret", mask(credential.account_secret)),
            ("Encryption key", ", ".join(sorted(self._key_ids(credential))) or "(none)"),
            ("Created", self._when(credential.created_at, dealership)),
            ("Updated", self._when(credential.updated_at, dealership)),
            (
                "Last synced",
                self._when(credential.last_synced_at, dealership) if credential.last_synced_at else "never",
            ),
        ]
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            self.stdout.write(f"{label.ljust(width)}  {value}")

    def _when(self, value, dealership):
        """A timestamp in the dealership's own time zone."""
        return f"{timezone.localtime(value, dealership.zoneinfo):%Y-%m-%d %H:%M %Z}"

    def _key_ids(self, credential):
        tokens = (getattr(credential, f"{field}_encrypted") for field, *_ in SECRET_OPTIONS)
        return {crypto.key_id_of(token) or "?" for token in tokens if token}

    def handle_delete(self, dealership, **options):
        with transaction.atomic():
            credential = self._get_credential(dealership)
            # Log first: the entry needs the row's primary key.
            log(credential, DELETE_ACTION, user=None, data={"dealership": dealership.slug}, deleted=True)
            credential.delete()
        self.stdout.write(self.style.SUCCESS(f"Deleted the EasyCars credentials of {dealership.slug}."))

    def handle_test(self, dealership, **options):
        from ...client.http import test_connection

        credential = self._get_credential(dealership)
        result = test_connection(account_for(credential))
        if not result.ok:
            pair = {"client": "Client ID / Client Secret", "account": "Account Number / Account Secret"}
            prefix = f"The {pair[result.failed_pair]} pair failed: " if result.failed_pair in pair else ""
            raise CommandError(f"{dealership.slug} ({credential.environment}): {prefix}{result.message}")
        self.stdout.write(
            self.style.SUCCESS(f"{dealership.slug} ({credential.environment}): both credential pairs work.")
        )
