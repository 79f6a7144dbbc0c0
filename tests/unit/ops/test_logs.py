"""Redaction: no credential-shaped text leaves through a log record, whatever part holds it."""

from __future__ import annotations

import logging
import sys

import pytest
from django.conf import settings

from ops.logs import ClientErrorFilter, RedactArgsFilter, RedactSecretsFilter, redact

TOKEN = "inv_AbC123_s3cr3t-Value_xyz"


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (f"token {TOKEN} used", "token [REDACTED] used", TOKEN),
        ("Authorization: Bearer abc.def-ghi", "Bearer [REDACTED]", "abc.def-ghi"),
        ("password=hunter2, user=bob", "password=[REDACTED], user=bob", "hunter2"),
        ("secret: swordfish", "secret: [REDACTED]", "swordfish"),
        ("postgres://app:pa55word@db:5432/x", "postgres://app:[REDACTED]@db:5432/x", "pa55word"),
        ("redis://:r3dis@cache:6379/0", "redis://:[REDACTED]@cache:6379/0", "r3dis"),
        ("https://u:p4ss@host/path", "https://u:[REDACTED]@host/path", "p4ss"),
    ],
)
def test_credential_shapes_are_redacted(text: str, kept: str, gone: str) -> None:
    cleaned = redact(text)
    assert kept in cleaned
    assert gone not in cleaned


def test_plain_text_is_left_alone() -> None:
    text = "GET /api/v1/stock/SKU-1 200 tenant=alpha https://example.com/a"
    assert redact(text) == text


def test_configured_secret_values_are_redacted_wherever_they_appear() -> None:
    key = settings.SECRET_KEY
    assert len(key) >= 8  # else it would not count as a secret
    assert key not in redact(f"prefix{key}suffix")


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args or None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_the_filter_redacts_message_arguments_and_extras() -> None:
    record = _record("calling with %s", TOKEN, header=f"Bearer {TOKEN}", count=3)

    class Request:
        def __str__(self) -> str:
            return f"<GET /x?token={TOKEN}>"

    record.request = Request()
    assert RedactSecretsFilter().filter(record) is True
    assert TOKEN not in record.getMessage()
    assert record.header == "Bearer [REDACTED]"
    assert TOKEN not in record.request
    assert record.count == 3  # numbers are not rewritten


def test_the_filter_redacts_the_traceback_once_rendered() -> None:
    try:
        raise ValueError(f"bad password={TOKEN}")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    RedactSecretsFilter().filter(record)
    assert record.exc_info is None
    assert "ValueError" in record.exc_text and TOKEN not in record.exc_text


def test_access_log_arguments_keep_their_shape() -> None:
    record = _record("%s %s %d", "127.0.0.1", f"/mcp?token={TOKEN}", 200)
    RedactArgsFilter().filter(record)
    assert record.args == ("127.0.0.1", "/mcp?token=[REDACTED]", 200)
    mapping = _record("%(path)s")
    mapping.args = {"path": f"/x?{TOKEN}", "status": 401}
    RedactArgsFilter().filter(mapping)
    assert mapping.args == {"path": "/x?[REDACTED]", "status": 401}


@pytest.mark.parametrize(("status", "keeps_traceback"), [(403, False), (499, False), (500, True)])
def test_a_client_error_is_logged_without_its_traceback(status: int, keeps_traceback: bool) -> None:
    try:
        raise PermissionError("no")
    except PermissionError:
        record = logging.LogRecord("t", logging.WARNING, __file__, 1, "x", None, sys.exc_info())
    record.status_code = status
    ClientErrorFilter().filter(record)
    assert (record.exc_info is not None) is keeps_traceback
