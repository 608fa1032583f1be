"""Seed a demo dealership wired to the EasyCars sandbox. Safe to run any number of times.

It creates (or brings back to the demo state) a dealership linked to the default Wagtail Site,
an admin user whose login it prints, a membership, the sandbox's first account as EasyCars
credentials, and — when the site defines a showroom page type — a "Vehicles" page under the
home page.
"""

from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify
from wagtail.log_actions import log
from wagtail.models import Page, Site, get_page_models

from ... import crypto
from ...models import Dealership, DealershipMembership, EasyCarsCredential

#: The sandbox's first account (the contract's placeholder credentials).
SANDBOX_ACCOUNT = {
    "client_id": "00000000-0000-0000-0000-000000000001",
    "client_secret": "00000000-0000-0000-0000-000000000002",
    "account_number": "EC000001",
    "account_secret": "00000000-0000-0000-0000-000000000003",
}


def sandbox_account():
    """The sandbox's own idea of its first account, when the sandbox is importable."""
    try:
        from ...sandbox.state import make_account
    except ImportError:
        return dict(SANDBOX_ACCOUNT)
    account = make_account(1)
    return {field: getattr(account, field) for field in SANDBOX_ACCOUNT}


def showroom_page_model():
    """The first concrete page type built on the package's showroom behaviour, if the site has one."""
    for model in get_page_models():
        if model._meta.abstract or model is Page:
            continue
        if any(base.__module__.startswith("wagtail_easycars.showroom") for base in model.__mro__):
            return model
    return None


class Command(BaseCommand):
    help = "Seed a demo dealership, an admin user and sandbox credentials (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--dealership", default="demo-motors", metavar="SLUG", help="Demo dealership slug.")
        parser.add_argument("--name", default="Demo Motors", help="Demo dealership name.")
        parser.add_argument("--username", default="admin", help="Admin username (default: admin).")
        parser.add_argument("--password", default="changeme", help="Admin password (default: changeme).")
        parser.add_argument(
            "--site-url",
            default="http://127.0.0.1:8000/",
            help="Where the demo site runs; the default Wagtail Site gets this host name and port.",
        )

    def handle(self, *args, **options):
        try:
            crypto.load_keyring()
        except crypto.EncryptionKeyError as exc:
            raise CommandError(str(exc)) from None
        site_url = urlsplit(options["site_url"])
        if site_url.scheme not in ("http", "https") or not site_url.hostname:
            raise CommandError(f"--site-url must be an http(s) URL, not {options['site_url']!r}.")
        with transaction.atomic():
            site = self._default_site(site_url)
            dealership = self._dealership(options["dealership"], options["name"], site)
            user = self._admin_user(options["username"], options["password"])
            DealershipMembership.objects.update_or_create(
                user=user, dealership=dealership, defaults={"role": DealershipMembership.Role.ADMIN}
            )
            self._credentials(dealership)
            listing = self._listing_page(site)
        self._schedules()

        self.stdout.write(self.style.SUCCESS(f"Demo dealership {dealership.name!r} ({dealership.slug}) is ready."))
        if listing is not None:
            self.stdout.write(f"Vehicles page: {listing.full_url or listing.url_path}")
        self.stdout.write(f"Admin: {site.root_url}/admin/")
        self.stdout.write(f"Login: {options['username']} / {options['password']}")

    def _default_site(self, site_url):
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
        if site is None:
            raise CommandError("There is no default Wagtail Site; run migrate first (it creates one).")
        # Page URLs and the admin's "view live" links then point at the running demo.
        site.site_name = "Demo Motors"
        site.hostname = site_url.hostname
        site.port = site_url.port or (443 if site_url.scheme == "https" else 80)
        site.save(update_fields=["site_name", "hostname", "port"])
        return site

    def _dealership(self, slug, name, site):
        dealership, created = Dealership.objects.get_or_create(slug=slug, defaults={"name": name})
        owner = Dealership.objects.filter(site=site).exclude(pk=dealership.pk).first()
        if owner is not None:
            self.stderr.write(
                self.style.WARNING(f"The default site already belongs to {owner.slug!r}; {slug!r} gets no site.")
            )
        elif dealership.site_id != site.pk:
            dealership.site = site
            dealership.save(update_fields=["site"])
        self.stdout.write(f"{'Created' if created else 'Found'} dealership {slug}.")
        return dealership

    def _admin_user(self, username, password):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            user = User.objects.create_superuser(username, f"{username}@example.com", password)
            self.stdout.write(f"Created superuser {username}.")
            return user
        # Bring the account back to the login this command prints.
        user.is_active = user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Reset the password of {username}.")
        return user

    def _credentials(self, dealership):
        account = sandbox_account()
        credential = EasyCarsCredential.objects.filter(dealership=dealership).first()
        if credential is not None:
            try:
                current = {field: getattr(credential, field) for field in account}
            except crypto.SecretDecryptionError:
                current = None  # e.g. a new demo key: start again with the sandbox's values
            if current == account and credential.environment == EasyCarsCredential.Environment.TEST:
                return
        created = credential is None
        credential = credential or EasyCarsCredential(dealership=dealership)
        credential.environment = EasyCarsCredential.Environment.TEST
        credential.is_active = True
        credential.set_secrets(**account)
        credential.save()
        log(
            credential,
            "wagtail_easycars.credentials.set",
            user=None,
            data={"dealership": dealership.slug, "created": created, "changed_fields": sorted(account)},
        )
        self.stdout.write(f"Stored the sandbox's EasyCars credentials (account {credential.masked_account_number}).")

    def _listing_page(self, site):
        model = showroom_page_model()
        if model is None:
            self.stdout.write("No showroom page type is installed; skipping the Vehicles page.")
            return None
        home = site.root_page.specific
        existing = model.objects.child_of(home).first()
        if existing is not None:
            return existing
        if not model.can_exist_under(home):
            self.stderr.write(self.style.WARNING(f"{model.__name__} cannot be added under {home.title!r}."))
            return None
        page = model(title="Vehicles", slug=slugify("vehicles"), show_in_menus=True)
        home.add_child(instance=page)
        page.save_revision().publish()
        self.stdout.write(f"Created the {model._meta.verbose_name} 'Vehicles'.")
        return page

    def _schedules(self):
        # The sync schedules command arrives with the stock sync; run it when it is installed.
        if "easycars_setup_schedules" in get_commands():
            call_command("easycars_setup_schedules", stdout=self.stdout, stderr=self.stderr)
