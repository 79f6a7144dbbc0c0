"""Shared (public-schema) app: tenants, their domains and API tokens."""
