"""The ASGI application: the MCP endpoint at /mcp (and /mcp/), Django on every other path.

config.ops wraps both: /healthz, /readyz and /metrics on every host, request ids, access logs.
"""

import os

from django.core.asgi import get_asgi_application

# Servers run production settings unless told otherwise (`make run` and the tests say so).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

django_application = get_asgi_application()  # sets Django up before the MCP bridge is imported

from config.ops.asgi import wrap  # noqa: E402
from mcp_bridge.asgi import mount  # noqa: E402

application = wrap(mount(django_application))
