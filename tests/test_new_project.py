"""The issue's "done when": a brand-new `wagtail start` project needs only INSTALLED_APPS and the key.

Runs in subprocesses with this interpreter (no network: `wagtail start` copies a local template).
"""

import base64
import os
import re
import subprocess
import sys
import textwrap

import pytest

#: What the new project's admin must serve after only the two INSTALLED_APPS lines and the key.
SMOKE_SCRIPT = textwrap.dedent(
    """
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from wagtail_easycars.models import Dealership, EasyCarsCredential

    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    dealership = Dealership.objects.create(name="New Motors", slug="new-motors")
    credential = EasyCarsCredential(dealership=dealership)
    credential.set_secrets(
        client_id="00000000-0000-0000-0000-000000000001",
        client_secret="client-secret-of-the-new-project",
        account_number="EC000001",
        account_secret="account-secret-of-the-new-project",
    )
    credential.save()
    client = Client()
    client.force_login(user)
    for name in ("wagtailadmin_home", "wagtailsnippets_wagtail_easycars_vehicle:list"):
        response = client.get(reverse(name))
        body = response.content.decode()
        assert response.status_code == 200, (name, response.status_code)
        assert "secret-of-the-new-project" not in body
    print("SMOKE OK")
    """
)


def run(args, cwd, env, timeout=300):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def new_project(tmp_path):
    """A fresh `wagtail start` project whose only edit is adding the two apps to INSTALLED_APPS."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    run([sys.executable, "-m", "wagtail.bin.wagtail", "start", "newsite", str(tmp_path)], tmp_path, env)
    settings_file = tmp_path / "newsite" / "settings" / "base.py"
    settings = settings_file.read_text()
    settings, replaced = re.subn(
        r"INSTALLED_APPS = \[\n", 'INSTALLED_APPS = [\n    "wagtail_easycars",\n    "django_q",\n', settings
    )
    assert replaced == 1
    settings_file.write_text(settings)
    return tmp_path, env


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="the new project always uses its own SQLite database; the SQLite run of the suite covers it",
)
def test_a_new_wagtail_project_needs_only_the_apps_and_the_key(new_project):
    project, env = new_project
    manage = [sys.executable, "manage.py"]

    # Without the key, `check` fails and says exactly what to set.
    result = subprocess.run([*manage, "check"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "wagtail_easycars.E001" in result.stderr
    assert "EASYCARS_ENCRYPTION_KEY" in result.stderr

    env = {**env, "EASYCARS_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode()}
    run([*manage, "migrate", "--no-input"], project, env)
    check = run([*manage, "check"], project, env)
    assert "System check identified no issues" in check.stdout
    run([*manage, "makemigrations", "--check", "--dry-run", "wagtail_easycars"], project, env)
    smoke = run([*manage, "shell", "-c", SMOKE_SCRIPT], project, env)
    assert "SMOKE OK" in smoke.stdout
