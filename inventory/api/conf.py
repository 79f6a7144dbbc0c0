"""Accessor for the REST API's settings (the INVENTORY_API dict in config/settings)."""

from django.conf import settings


def api_setting(name: str) -> object:
    return settings.INVENTORY_API[name]


def api_rate() -> str:
    return str(api_setting("RATE"))


def page_size() -> int:
    return int(api_setting("PAGE_SIZE"))  # type: ignore[call-overload]


def max_page_size() -> int:
    return int(api_setting("MAX_PAGE_SIZE"))  # type: ignore[call-overload]


def max_body_bytes() -> int:
    return int(api_setting("MAX_BODY_BYTES"))  # type: ignore[call-overload]
