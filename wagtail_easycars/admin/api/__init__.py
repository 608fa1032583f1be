"""JSON endpoints behind the EasyCars admin screens (also usable by scripts with an admin session).

Django REST framework views under the Wagtail admin's URL space, so the admin's session login
applies and unsafe methods need the CSRF token. Each endpoint requires the same permission as its
screen and answers about one of the user's dealerships (``?dealership=<slug>`` picks one), both
decided by ``admin.access``; what an endpoint does is ``admin.services``'s. Keys are snake_case
(the camelCase ones of earlier releases still answer, deprecated: see ``naming``). Errors are
``{"message": ..., "code": ...}``. Secrets are accepted, never returned. Documented in docs/api.md.
"""
