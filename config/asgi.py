"""The ASGI applications. `application`, on the internal port: the MCP endpoint at /mcp (and
/mcp/), Django on every other path. `tunnel_application`, on the port the tunnel forwards to:
/mcp and its OAuth metadata only (mcp_bridge.asgi.McpOnly), 404 for everything else.

ops wraps both: /healthz, /readyz and /metrics on every host, request ids, access logs;
outermost, ops.limits caps request bodies and sets the data plane's database deadline.
"""

import os

from ops.djangoasgi import get_asgi_application  # Django's, one thread hop per request

# Servers run production settings unless told otherwise (`make run` and the tests say so).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

django_application = get_asgi_application()  # sets Django up before the MCP bridge is imported

from mcp_bridge.asgi import McpOnly, mount  # noqa: E402
from ops.asgi import wrap  # noqa: E402
from ops.limits import limit  # noqa: E402
from ops.logs import redact_access_logs  # noqa: E402

redact_access_logs()
application = limit(wrap(mount(django_application)))
tunnel_application = limit(McpOnly(wrap(mount(django_application))))
