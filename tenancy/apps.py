"""App config for the public-schema tenancy app."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class TenancyConfig(AppConfig):
    name = "tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenancy import receivers

        receivers.connect()


class AdminSitesConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose default site (admin.site) is the tenant admin site."""

    default = False  # named explicitly in INSTALLED_APPS; TenancyConfig stays this module's default

    default_site = "tenancy.admin_sites.TenantAdminSite"
