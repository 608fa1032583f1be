"""Pytest fixtures for the EasyCars sandbox (registered in tests/conftest.py).

One sandbox server runs per test session (per xdist worker), on a free loopback port; the
``sandbox`` fixture resets its state before each test, so every test starts from the same
deterministic stock, no leads, no faults and an empty request log.
"""

from dataclasses import dataclass, field

import pytest
from django.core.cache import caches

from wagtail_easycars.client.contract import EasyCarsAccount
from wagtail_easycars.sandbox import SandboxControl, SandboxServer

#: Stock per account after each reset; tests wanting more call ``sandbox.control.reset(stock=N)``.
DEFAULT_STOCK = 20
DEFAULT_ACCOUNTS = 2


@dataclass
class Sandbox:
    server: SandboxServer
    control: SandboxControl
    #: EasyCarsAccount objects (environment "test"), one per sandbox account.
    accounts: list = field(default_factory=list)

    @property
    def account(self):
        """Sandbox account 1 as an ``EasyCarsAccount``."""
        return self.accounts[0]

    @property
    def base_url(self):
        return self.server.base_url

    @property
    def root_url(self):
        return self.server.root_url


def easycars_account(sandbox_account, environment="test"):
    return EasyCarsAccount(
        environment=environment,
        client_id=sandbox_account.client_id,
        client_secret=sandbox_account.client_secret,
        account_number=sandbox_account.account_number,
        account_secret=sandbox_account.account_secret,
        label=sandbox_account.label,
    )


@pytest.fixture(scope="session")
def sandbox_server():
    with SandboxServer(stock=DEFAULT_STOCK, accounts=DEFAULT_ACCOUNTS, seed=1) as server:
        yield server


@pytest.fixture(scope="session")
def _sandbox_control(sandbox_server):
    with SandboxControl(sandbox_server.root_url) as control:
        yield control


@pytest.fixture
def sandbox(sandbox_server, _sandbox_control):
    """A running sandbox with fresh state: ``.base_url``, ``.root_url``, ``.control``, ``.account(s)``."""
    _sandbox_control.reset(stock=DEFAULT_STOCK, accounts=DEFAULT_ACCOUNTS, seed=1, yards=3)
    sandbox_server.latency_ms = 0
    sandbox_server.token_lifetime = 600
    yield Sandbox(
        server=sandbox_server,
        control=_sandbox_control,
        accounts=[easycars_account(account) for account in sandbox_server.accounts],
    )
    # A slow or dropping fault left behind must not leak into the next test's fixtures.
    _sandbox_control.clear_faults()
    _sandbox_control.clear_image_faults()


@pytest.fixture
def sandbox_settings(settings, sandbox):
    """Point ``WAGTAIL_EASYCARS["BASE_URLS"]`` at the sandbox and clear Django's caches."""
    config = dict(getattr(settings, "WAGTAIL_EASYCARS", {}) or {})
    config["BASE_URLS"] = {"test": sandbox.base_url, "production": sandbox.server.production_url}
    settings.WAGTAIL_EASYCARS = config
    for cache in caches.all():
        cache.clear()
    return sandbox


@pytest.fixture
def easycars(settings, sandbox_settings):
    """``sandbox_settings`` with 3-second HTTP timeouts: tests of faults and lead pushes give up
    quickly, yet a loaded 2-core CI machine still answers in time (a test needing a shorter
    timeout sets it itself)."""
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "READ_TIMEOUT": 3.0, "CONNECT_TIMEOUT": 3.0}
    return sandbox_settings
