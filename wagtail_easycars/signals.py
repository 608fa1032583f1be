"""Signal receivers. Kept empty of business logic: they call into sync/ or models."""
