"""Signal receivers. Kept empty of business logic: they call into sync/ or models."""

from .sync import (
    locks,  # noqa: F401
    outbox,  # noqa: F401
)
