"""Every process forgets its cached tokens and host owners when a token, tenant or domain changes.

Connected in TenancyConfig.ready(); tenancy.signals holds the signals this app sends. This process forgets at once; the notice to every process
goes out when the change's transaction commits (at once outside a transaction), so no process
keeps an entry filled before the commit.
"""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from ops.invalidation import changed, forget_here
from tenancy.models import ApiToken, Domain, Tenant


def _announce(sender: type, **kwargs: Any) -> None:
    if sender is ApiToken and kwargs.get("update_fields") == frozenset({"last_used_at"}):
        return  # bookkeeping of a used token (QuerySet.update sends no signal anyway)
    forget_here()
    transaction.on_commit(changed, using=kwargs.get("using"))


def connect() -> None:
    for model in (ApiToken, Tenant, Domain):
        post_save.connect(
            _announce, sender=model, dispatch_uid=f"auth-changed-save-{model.__name__}"
        )
        post_delete.connect(
            _announce, sender=model, dispatch_uid=f"auth-changed-delete-{model.__name__}"
        )
