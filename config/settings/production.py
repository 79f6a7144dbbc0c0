"""Production settings: refuse to start while insecure."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DEV_SECRET_KEY, SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)

_problems = []
if DEBUG:
    _problems.append("DJANGO_DEBUG must be off")
if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
    _problems.append("DJANGO_SECRET_KEY must be set to a random value of 32+ characters")
if not env.list("DJANGO_ALLOWED_HOSTS", default=[]):
    _problems.append("DJANGO_ALLOWED_HOSTS must be set explicitly")
if _problems:
    raise ImproperlyConfigured("insecure production settings: " + "; ".join(_problems))

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
