"""Django app configuration for the tunnel worker."""

from django.apps import AppConfig


class TunnelWorkerConfig(AppConfig):
    """Public-schema app holding the tunnel's stored status."""

    name = "tunnel_worker"
    verbose_name = "Tunnel worker"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tunnel's readiness check, metrics and secret: registered with ops, which imports
        # no app (the models are loaded by now, so these imports are safe here).
        from ops import health, logs, metrics
        from tunnel_worker import probes
        from tunnel_worker.conf import tunnel_settings

        health.register_database_check(
            probes.READINESS_CHECK, run=probes.readiness, unknown=probes.readiness_unknown
        )
        metrics.register_state_collector(probes.TunnelCollector())
        logs.register_secrets(lambda: (tunnel_settings().TOKEN,))
