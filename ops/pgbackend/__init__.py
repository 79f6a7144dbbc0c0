"""Django's PostgreSQL backend with bounded pool callbacks and client-enforced deadlines.

django-tenants' backend builds on it (ORIGINAL_BACKEND in config/settings/base.py).
"""
