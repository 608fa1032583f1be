"""The example site's manage.py works from a fresh clone, without the key in the environment."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "example_site"


def manage(*args, **env):
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("EASYCARS_ENCRYPTION_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=EXAMPLE_SITE, env=environ, capture_output=True, text=True
    )


def test_example_site_checks_and_migrations_need_no_key_in_development():
    check = manage("check", DJANGO_DEBUG="1")
    migrations = manage("makemigrations", "--check", "--dry-run", DJANGO_DEBUG="1")
    assert check.returncode == 0, check.stderr
    assert migrations.returncode == 0, migrations.stderr


def test_example_site_outside_debug_still_demands_a_key():
    check = manage("check", DJANGO_DEBUG="0")
    assert check.returncode != 0
    assert "wagtail_easycars.E001" in check.stderr
