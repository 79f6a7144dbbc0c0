"""Test settings: the real PostgreSQL named by DATABASE_URL, fast password hashing."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)  # seed_demo tests turn it on
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests create, use and drop their own database, named here so that the live servers and
# commands they start in subprocesses (which inherit the environment) find the same one.
DATABASES["default"]["NAME"] = env.str("TEST_DB_NAME", default="inventory_test")
# Every test client is 127.0.0.1 and many tests send bad tokens on purpose: the per-address
# limit is set low only by the tests of that limit (tests/security/test_bearer_limits.py).
AUTH_FAILURE_RATE = env.str("AUTH_FAILURE_RATE", default="100000/min")
