"""Logging helpers: a filter that redacts anything shaped like a credential."""

import logging
import re
from collections.abc import Callable, Iterable, Mapping

from django.conf import settings

from ops.conf import ops_settings

# API tokens (inv_<prefix>_<secret>), bearer headers and password-ish key=value pairs.
_PATTERNS = [
    re.compile(r"inv_[A-Za-z0-9]+_[A-Za-z0-9_\-]+"),
    re.compile(r"(?i)(bearer\s+)[^\s'\"]+"),
    re.compile(r"(?i)((?:password|passwd|secret|token)\s*[=:]\s*)[^\s,'\"]+"),
    re.compile(r"(?i)(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+(@)"),
    # Any other URL with credentials in it (redis://:pw@, amqp://user:pw@, https://u:p@).
    re.compile(r"(?i)([a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s/]+(@)"),
]
# Record attributes that logging itself sets; everything else on a record is an `extra`.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}
_MIN_SECRET_LENGTH = 8
# Text none of the patterns can match lacks all of these (case-folded): pattern 0 needs "inv_",
# 1 "bearer", 2 "passw", "secret" or "token", 3 and 4 "://". Such text skips the regexes: most
# of a log line's fields (request id, tenant, SKU, outcome) are plain words.
_MARKERS = ("inv_", "bearer", "passw", "secret", "token", "://")


_secrets_cache: list[tuple[str, ...]] = []
_secret_sources: list[Callable[[], Iterable[str]]] = []


def register_secrets(source: Callable[[], Iterable[str]]) -> None:
    """Add a source of secret values to redact (an app's own tokens; AppConfig.ready())."""
    _secret_sources.append(source)
    _secrets_cache.clear()


def _configured_secrets() -> tuple[str, ...]:
    """Secret values from settings (the secret key, the database password, service tokens)."""
    if _secrets_cache:
        return _secrets_cache[0]
    try:
        values = [
            settings.SECRET_KEY,
            settings.DATABASES["default"].get("PASSWORD", ""),
            ops_settings().METRICS_TOKEN,
            *(value for source in _secret_sources for value in source()),
        ]
    except Exception:  # noqa: BLE001 - settings not configured: patterns only
        return ()
    _secrets_cache.append(
        tuple(v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH)
    )
    return _secrets_cache[0]


def redact(text: str) -> str:
    """Return text with anything that looks like a secret replaced by [REDACTED]."""
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    lowered = text.casefold()  # as (?i) matches: "ſ" is an "s", the Kelvin sign a "k"
    if not any(marker in lowered for marker in _MARKERS):
        return text
    text = _PATTERNS[0].sub("[REDACTED]", text)
    text = _PATTERNS[1].sub(r"\1[REDACTED]", text)
    text = _PATTERNS[2].sub(r"\1[REDACTED]", text)
    text = _PATTERNS[3].sub(r"\1[REDACTED]\2", text)
    return _PATTERNS[4].sub(r"\1[REDACTED]\2", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message, traceback and string extras so that no secret reaches a
    handler (text or JSON)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            # Render the traceback once, redacted; formatters use exc_text when exc_info is gone.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS or value is None or isinstance(value, bool | int | float):
                continue
            # Objects too (Django's `request` extra shows its query string): a JSON formatter
            # prints str(value), so a value whose text holds a secret is replaced by that text,
            # redacted.
            text = value if isinstance(value, str) else str(value)
            cleaned = redact(text)
            if cleaned != text or isinstance(value, str):
                setattr(record, key, cleaned)
        return True


class ClientErrorFilter(logging.Filter):
    """Drops the traceback from a logged 4xx answer (django.request logs PermissionDenied,
    Http404 and bad requests with one): an ordinary refusal is one line, and a traceback in the
    logs stays a sign of a real error."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RedactArgsFilter(logging.Filter):
    """Redacts each string argument of a record whose formatter unpacks `record.args` (uvicorn's
    access log: client, method, path with query string, version, status), keeping its shape."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def redact_access_logs() -> None:
    """Attach RedactArgsFilter to the servers' own access loggers: a token sent in a URL's query
    string must not reach uvicorn's (or gunicorn's) access log in clear."""
    for name in ("uvicorn.access", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactArgsFilter) for f in logger.filters):
            logger.addFilter(RedactArgsFilter())
