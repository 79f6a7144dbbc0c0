"""Signals the tenancy app sends, so tenant apps can react without tenancy importing them."""

from django.dispatch import Signal

# Sent by tenancy.services.tenant_provision inside the tenant's schema, on every run (a repeat
# too): a tenant app brings its own rows of that schema up to date (inventory: the roles).
# Arguments: tenant.
tenant_schema_ready = Signal()
