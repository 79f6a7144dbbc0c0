"""Test settings: the real PostgreSQL named by DATABASE_URL, fast password hashing."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)  # seed_demo tests turn it on
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests create, use and drop their own database, named here so that the live servers and
# commands they start in subprocesses (which inherit the environment) find the same one.
DATABASES["default"]["NAME"] = env.str("TEST_DB_NAME", default="inventory_test")
