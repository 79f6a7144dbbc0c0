"""Logging helpers: a filter that redacts anything shaped like a credential."""

import logging
import re

# API tokens (inv_<prefix>_<secret>), bearer headers and password-ish key=value pairs.
_PATTERNS = [
    re.compile(r"inv_[A-Za-z0-9]+_[A-Za-z0-9_\-]+"),
    re.compile(r"(?i)(bearer\s+)[^\s'\"]+"),
    re.compile(r"(?i)((?:password|passwd|secret|token)\s*[=:]\s*)[^\s,'\"]+"),
    re.compile(r"(?i)(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+(@)"),
]


def redact(text: str) -> str:
    """Return text with anything that looks like a secret replaced by [REDACTED]."""
    text = _PATTERNS[0].sub("[REDACTED]", text)
    text = _PATTERNS[1].sub(r"\1[REDACTED]", text)
    text = _PATTERNS[2].sub(r"\1[REDACTED]", text)
    return _PATTERNS[3].sub(r"\1[REDACTED]\2", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message so that no secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
