"""The bench's web servers: production settings, plus one URL conf that adds yardstick R.

Only `make bench` names this module (DJANGO_SETTINGS_MODULE=bench.settings); a deployment runs
config.settings.production, whose URL confs have no /bench/ path.
"""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
