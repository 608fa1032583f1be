"""Re-encrypt every stored EasyCars secret under the newest configured key.

Safe to run while the site and workers are up: each credential is re-read under a row lock and
re-encrypted in its own short transaction, and readers keep working throughout because the old
key stays configured until the rotation has finished. Running it again changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ... import crypto
from ...models import EasyCarsCredential
from ...models.credentials import SECRET_FIELDS


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored EasyCars secret under the newest key in WAGTAIL_EASYCARS['ENCRYPTION_KEYS']. "
        "Keep the old keys configured until this reports no failures."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only report how many credentials use an older key.")

    def handle(self, *args, dry_run=False, **options):
        try:
            newest = crypto.current_key_id()
        except crypto.EncryptionKeyError as exc:
            raise CommandError(str(exc)) from None

        counts = {"rotated": 0, "current": 0, "failed": 0}
        for pk in EasyCarsCredential.objects.order_by("pk").values_list("pk", flat=True):
            try:
                outcome = self._rotate_one(pk, dry_run=dry_run)
            except crypto.SecretDecryptionError as exc:
                # The message names the dealership and the field, never the value.
                counts["failed"] += 1
                self.stderr.write(self.style.ERROR(str(exc)))
                continue
            counts[outcome] += 1

        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        summary = (
            f"{counts['rotated']} credential(s) {verb} under key {newest!r}, "
            f"{counts['current']} already current, {counts['failed']} failed."
        )
        if counts["failed"]:
            raise CommandError(
                f"{summary} Keep every old key configured and fix the failures above before removing any key."
            )
        self.stdout.write(self.style.SUCCESS(summary))

    def _rotate_one(self, pk, *, dry_run):
        with transaction.atomic():
            credential = (
                EasyCarsCredential.objects.select_for_update().select_related("dealership").filter(pk=pk).first()
            )
            if credential is None:  # deleted since we listed it
                return "current"
            # Decrypt everything first, so a bad value surfaces with the dealership's name.
            self._check_decryptable(credential)
            if dry_run:
                stale = any(
                    token and crypto.key_id_of(token) != crypto.current_key_id() for token in self._tokens(credential)
                )
                return "rotated" if stale else "current"
            if not credential.rotate_encryption():
                return "current"
            credential.save(update_fields=[f"{field}_encrypted" for field in SECRET_FIELDS])
            return "rotated"

    def _tokens(self, credential):
        return [getattr(credential, f"{field}_encrypted") for field in SECRET_FIELDS]

    def _check_decryptable(self, credential):
        for field in SECRET_FIELDS:
            try:
                getattr(credential, field)
            except crypto.SecretDecryptionError as exc:
                dealership = credential.dealership
                raise crypto.SecretDecryptionError(
                    f"Dealership {dealership.name!r} ({dealership.slug}): {exc}"
                ) from None
