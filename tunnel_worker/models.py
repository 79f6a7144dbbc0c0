"""Stored tunnel status (one row per tunnel name) and its append-only event log."""

from django.db import models


class TunnelState(models.TextChoices):
    """Lifecycle of one tunnel as the supervisor sees it."""

    STARTING = "starting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


class TunnelStatus(models.Model):
    """Current state of one named tunnel; written only by tunnel_worker.services."""

    name = models.CharField(max_length=100, unique=True)
    backend = models.CharField(max_length=20, default="off")
    state = models.CharField(
        max_length=20, choices=TunnelState.choices, default=TunnelState.STOPPED
    )
    since = models.DateTimeField(help_text="When the current state began.")
    connect_count = models.PositiveIntegerField(default=0)
    disconnect_count = models.PositiveIntegerField(default=0)
    attempt = models.PositiveIntegerField(
        default=0, help_text="Consecutive failed attempts since the last stable connection."
    )
    backoff_seconds = models.FloatField(default=0.0)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    holder_host = models.CharField(max_length=255, blank=True, default="")
    holder_pid = models.PositiveIntegerField(null=True, blank=True)
    url = models.CharField(max_length=500, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    status_lag_seconds = models.FloatField(
        default=0.0,
        help_text="How long the oldest change in this row waited to be stored (0: it was current).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tunnel status"
        verbose_name_plural = "tunnel status"

    def __str__(self) -> str:
        return f"{self.name}: {self.state}"


class TunnelEvent(models.Model):
    """One transition or attempt, kept so backoff sequences and failures can be audited."""

    class Kind(models.TextChoices):
        ATTEMPT = "attempt"
        CONNECTED = "connected"
        DISCONNECTED = "disconnected"
        FAILED = "failed"
        STOPPED = "stopped"
        LEASE = "lease"
        WATCHDOG = "watchdog"
        BEHIND = "behind"  # status writes missed their deadline; the row caught up later

    name = models.CharField(max_length=100)
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    attempt = models.PositiveIntegerField(default=0)
    backoff_seconds = models.FloatField(null=True, blank=True)
    detail = models.TextField(blank=True, default="")
    holder_host = models.CharField(max_length=255, blank=True, default="")
    holder_pid = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["name", "-at"])]

    def __str__(self) -> str:
        return f"{self.name} {self.kind} @ {self.at:%H:%M:%S}"
