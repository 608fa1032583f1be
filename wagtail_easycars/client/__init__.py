"""The EasyCars API (docs/easycars-api.md): HTTP client, contract types and enums, errors, tokens,
circuit breaker, redaction. No ORM, no models.
"""
