"""Django app configuration for the tunnel worker."""

from django.apps import AppConfig


class TunnelWorkerConfig(AppConfig):
    """Public-schema app holding the tunnel's stored status."""

    name = "tunnel_worker"
    verbose_name = "Tunnel worker"
    default_auto_field = "django.db.models.BigAutoField"
