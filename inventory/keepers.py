"""Writes for tenant logins: keepers and viewers are staff users in one role group, never
superusers, so the admin's permission checks apply to them (docs/security.md)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.roles import STOCK_KEEPER, VIEWER, roles_sync

ROLES = (STOCK_KEEPER, VIEWER)


class KeeperError(Exception):
    """The login cannot be created as asked; the message says why, in one line."""


@transaction.atomic
def keeper_create(*, username: str, password: str, role: str = STOCK_KEEPER) -> AbstractUser:
    """Create a staff login with `role` in the current tenant schema."""
    user_model = get_user_model()
    user = user_model(username=username, is_staff=True, is_superuser=False)
    try:
        user_model.username_validator(username)
        validate_password(password, user)
    except ValidationError as exc:
        raise KeeperError(" ".join(exc.messages)) from exc
    if user_model.objects.filter(username=username).exists():
        raise KeeperError(f"user {username!r} already exists")
    user.set_password(password)
    user.save()
    keeper_role_set(user=user, role=role)
    return user


@transaction.atomic
def keeper_role_set(*, user: AbstractUser, role: str) -> None:
    """Make `user` staff with exactly `role`, and no superuser (demotes an old demo login)."""
    if role not in ROLES:
        raise KeeperError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    roles_sync()
    user.is_staff, user.is_superuser = True, False
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.set([Group.objects.get(name=role)])
