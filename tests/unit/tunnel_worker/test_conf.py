"""The tunnel worker's typed settings."""

import pytest

from tunnel_worker.conf import tunnel_settings


@pytest.mark.parametrize(
    ("upstream", "host_port"),
    [
        ("http://127.0.0.1:8001", ("127.0.0.1", 8001)),
        ("http://web", ("web", 80)),
        ("https://web.internal", ("web.internal", 443)),
        ("http://[::1]:9000/mcp", ("::1", 9000)),
    ],
)
def test_upstream_host_port(upstream: str, host_port: tuple[str, int]) -> None:
    assert tunnel_settings(UPSTREAM=upstream).upstream_host_port == host_port


def test_overrides_win_and_unknown_keys_are_ignored() -> None:
    conf = tunnel_settings(NAME="edge-a", BACKEND="ssh", NOT_A_SETTING=1)
    assert (conf.NAME, conf.BACKEND) == ("edge-a", "ssh")


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="TUNNEL_BACKEND must be one of"):
        tunnel_settings(BACKEND="carrier-pigeon")
