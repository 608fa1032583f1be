"""A faithful EasyCars stand-in for tests, benchmarks and demos (see docs/sandbox.md)."""

from .control import SandboxControl
from .server import SandboxServer
from .state import SandboxAccount

__all__ = ["SandboxAccount", "SandboxControl", "SandboxServer"]
