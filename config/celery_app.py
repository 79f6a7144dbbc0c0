"""The Celery application, configured from Django settings (CELERY_* keys).

The tunnel runs on its own queue, ``tunnel``, served by a dedicated worker:

    celery -A config worker -Q tunnel --pool solo --concurrency 1 --prefetch-multiplier 1 \
        -n tunnel@%h

``--pool solo`` runs the task in the worker's main process, so a SIGKILLed worker takes its
connector with it (child connectors also carry PR_SET_PDEATHSIG) and SIGTERM reaches the
supervisor as a graceful drain. Beat runs ``tunnel_worker.tasks.tunnel_watchdog`` every 15 s.
"""

import os

from celery import Celery

# Servers run production settings unless told otherwise (`make run` and the tests say so).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

TUNNEL_QUEUE = "tunnel"

app = Celery("inventory_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Lazy defaults (evaluated when the configuration is first read, after Django settings load);
# CELERY_* settings still win over them.
app.add_defaults(
    lambda: {
        # The tunnel task is acked on receipt (acks_late=False): a run that outlives the
        # broker's visibility_timeout is never redelivered, and the lease makes a duplicate
        # harmless anyway.
        "task_routes": {"tunnel_worker.tasks.tunnel_run": {"queue": TUNNEL_QUEUE}},
    }
)
app.autodiscover_tasks()
