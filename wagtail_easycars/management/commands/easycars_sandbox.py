"""``manage.py easycars_sandbox``: run the EasyCars sandbox server.

It takes the options of ``python -m wagtail_easycars.sandbox`` (see docs/sandbox.md), passed
through unchanged, e.g. ``manage.py easycars_sandbox --port 8765 --stock 60``.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser


class PassThroughParser(CommandParser):
    """Keeps Django's own options and hands everything else to the sandbox."""

    def parse_args(self, args=None, namespace=None):
        namespace, extras = self.parse_known_args(args, namespace)
        namespace.sandbox_args = [arg for arg in extras if arg != "--"]
        return namespace


class Command(BaseCommand):
    help = (
        "Run the EasyCars sandbox server on loopback. Takes the options of python -m wagtail_easycars.sandbox "
        "(list them with: manage.py easycars_sandbox -- --help)."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = PassThroughParser
        return parser

    def handle(self, *args, sandbox_args=(), **options):
        from ...sandbox.__main__ import main

        try:
            status = main(list(sandbox_args))
        except KeyboardInterrupt:
            return
        if status:
            raise CommandError(f"The sandbox exited with status {status}.", returncode=int(status))
