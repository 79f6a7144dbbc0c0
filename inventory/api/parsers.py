"""JSON bodies only, capped in size (413), not nested too deeply (400) and free of lone surrogates
PostgreSQL cannot store."""

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from inventory.api.conf import api_settings
from inventory.api.errors import body_too_large


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class CappedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        cap = api_settings().MAX_BODY_BYTES
        raw = stream.read(cap + 1) if stream is not None else b""
        if len(raw) > cap:
            raise body_too_large()
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # rejects lone surrogates
        except (ValueError, UnicodeError) as exc:
            raise ParseError(f"the request body is not valid UTF-8 JSON: {exc}") from None
        except RecursionError:
            raise ParseError("the request body is nested too deeply") from None
        return data
