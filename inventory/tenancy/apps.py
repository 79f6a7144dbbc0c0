"""App config for the public-schema tenancy app."""

from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "inventory.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"
