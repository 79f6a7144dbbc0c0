"""Settings shared by every environment, read from the environment in one place.

In ordered sections, each setting set once: core, apps and tenancy, middleware, web, database,
Redis, authentication, security, logging, then each app's own settings (MCP, operations, REST
API, tunnel worker), and Celery last (its beat schedule names intervals set above). The defaults
of the apps' settings are written here only; each app reads them through one typed accessor
(ops.conf.app_settings, mcp_bridge.conf.mcp_settings).
"""

import sys
from pathlib import Path

import environ

from devtools.embedded import NO_DATABASE_URL, recorded_services

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def _from_environment(prefix: str, defaults: dict[str, object]) -> dict[str, object]:
    """{KEY: the environment variable PREFIX + KEY, read as its default's type; else the default}."""
    return {
        key: env.get_value(prefix + key, cast=type(default), default=default)
        for key, default in defaults.items()
    }


# --- Core -------------------------------------------------------------------------------------

DEV_SECRET_KEY = "django-insecure-dev-only-change-me"  # noqa: S105 - refused by production.py

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1", "[::1]"]
)
# The port `make run` serves on (development), for the URLs commands print.
PORT = env.int("PORT", default=8000)

# --- Apps and tenancy -------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenancy",
    "tunnel_worker",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    # django.contrib.admin with the tenant admin site as admin.site (tenancy/admin_sites.py);
    # the public admin site is mounted only by config/urls_public.py.
    "tenancy.apps.AdminSitesConfig",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, no CDN
    "csp",
    "axes",  # admin login lockout; its tables in every schema, so tenants never share counters
    "mcp_bridge",  # no models: its management command (mcp_stdio)
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tenancy.apps.AdminSitesConfig",
    "axes",
    "inventory",
    "oauth2_provider",  # OAuth clients, grants and tokens live in each tenant's own schema
    "mcp_bridge.oauth",  # after oauth2_provider: replaces its admin registrations
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
# New schemas are migrated directly: measured on this project's few tables, django-tenants'
# clone_schema() took ~3 s per tenant against ~0.8 s for a plain migrate.
TENANT_CREATION_FAKES_MIGRATIONS = False
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
# Issue `SET search_path` when the schema changes, not before every query: a REST call made
# four of them and an MCP call three (django-tenants' documented option; the backend forgets the
# cached value on rollback, so an aborted transaction cannot leave a stale search_path).
TENANT_LIMIT_SET_CALLS = True
# `migrate_schemas --executor=multiprocessing`: tenants migrated by this many processes at once
# (each holds one database connection), handed out this many schemas at a time.
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("TENANT_MIGRATION_PROCESSES", default=4)
TENANT_MULTIPROCESSING_CHUNKS = env.int("TENANT_MIGRATION_CHUNKS", default=10)

# --- Middleware -------------------------------------------------------------------------------
MIDDLEWARE = [
    # django-tenants' Host routing, plus the per-tenant OAuth paths (/t/<schema>/oauth/...)
    "mcp_bridge.oauth.middleware.TenantRoutingMiddleware",
    # Right after the tenant routing: it sees request.tenant and every later middleware's outcome.
    "ops.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "inventory.middleware.TenantTimeZoneMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its 429 page
]

# --- URLs, templates, time, static files ------------------------------------------------------
ROOT_URLCONF = "config.urls_tenants"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
FORMAT_MODULE_PATH = ["inventory.formats"]  # one date format in the admin (YYYY-MM-DD HH:MM)
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Static files (the admin's CSS and JS) come straight from the apps, so `make run` needs no
# collectstatic step; production may still run collectstatic for compressed, cached copies.
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=64 * 1024)

# --- Database ---------------------------------------------------------------------------------
# DATABASE_URL / REDIS_URL when set; else the services a running `make run` recorded under
# .data/; else no database at all (commands then say "start `make run` or set DATABASE_URL").
_RUNNING = recorded_services()
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=_RUNNING.get("DATABASE_URL", NO_DATABASE_URL),
        engine="django_tenants.postgresql_backend",
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
# Under ASGI every request runs its sync code on a new thread, so thread-local persistent
# connections (CONN_MAX_AGE > 0) pile up until garbage collection: measured 51 open connections
# during the API fuzz run. A per-process psycopg pool hands connections back after each request.
# migrate_schemas' multiprocessing executor forks after the parent has used the database, and
# forked children must not share a pool's open connections (crossed results, then a hang).
_FORKING_COMMAND = sys.argv[1:2] in (["migrate_schemas"], ["migrate_tenants_behind"])
if env.bool("DB_POOL", default=not _FORKING_COMMAND):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=1),
        "max_size": env.int("DB_POOL_MAX", default=16),
        "timeout": env.float("DB_POOL_TIMEOUT", default=2.0),  # fail fast when the DB is away
        # psycopg_pool retries a failed connection with a doubling delay for up to 5 minutes,
        # and grows by one attempt at a time: after a PostgreSQL restart a request could wait
        # behind a 16 s backoff. Giving up early lets the next request start a fresh attempt.
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=5.0),
        # Bounded backend memory (docs/operations.md): a PostgreSQL backend keeps the catalog
        # cache of every tenant schema it served (~86 KB each), so a pooled connection is
        # replaced once it served DB_POOL_MAX_SCHEMAS tenant schemas (each connection's budget
        # drawn 0-25% lower, so they don't all go at once; 0 = no limit) or after
        # DB_POOL_MAX_LIFETIME seconds (psycopg_pool takes up to 5% off, for the same reason).
        "max_schemas": env.int("DB_POOL_MAX_SCHEMAS", default=1000),
        "max_lifetime": env.float("DB_POOL_MAX_LIFETIME", default=3600.0),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A read that hangs is worse than one that fails: every statement is capped, and connecting
# gives up quickly, so an unreachable database turns into "cannot be confirmed" fast.
DATABASES["default"]["OPTIONS"].update(
    {
        "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=2),
        "options": f"-c statement_timeout={env.int('DB_STATEMENT_TIMEOUT_MS', default=2000)}",
        # A peer that vanished (host down, network dropping packets) is noticed by the kernel:
        # idle connections by keepalive probes, busy ones by unacknowledged data. libpq applies
        # these to TCP connections only (a unix socket cannot lose its peer that way).
        "keepalives": 1,
        "keepalives_idle": env.int("DB_KEEPALIVES_IDLE", default=10),
        "keepalives_interval": env.int("DB_KEEPALIVES_INTERVAL", default=3),
        "keepalives_count": env.int("DB_KEEPALIVES_COUNT", default=3),
        "tcp_user_timeout": env.int("DB_TCP_USER_TIMEOUT_MS", default=5000),
        # Statements sent with server-side parameters (tenancy.statements: the hot reads) are
        # prepared after this many uses on a connection; the ORM's client-side binding never is.
        "prepare_threshold": 5,
    }
)
# Django's backend with a pool health check that costs no round trip while a connection is
# quiet, schema budgets and connections watched by ops.deadline; django-tenants' wraps it.
ORIGINAL_BACKEND = "ops.pgbackend"
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

# --- Redis (cache and rate limits; the Celery broker below) -----------------------------------
REDIS_URL = env.str("REDIS_URL", default=_RUNNING.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="inv"),
        # One pool per process, not one per request context (see ops/redis_pool.py).
        "OPTIONS": {"pool_class": "ops.redis_pool.SharedConnectionPool"},
    }
}

# --- Authentication ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out user or address
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Control-plane security (docs/security.md) --------------------------------------------------
# Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs). Empty: nobody's,
# so the client address is the TCP peer. Never "*": tunnelled requests arrive from loopback, and
# trusting loopback would let anyone through the tunnel choose their address. The servers get the
# same list (ops.proxies.forwarded_allow_ips), and production refuses "*".
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])

# Admin login lockout (django-axes, database handler: counters live in each schema's own tables).
# Locked per username and, separately, per client address; a success does not reset the address.
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("ADMIN_LOGIN_COOLOFF_HOURS", default=0.25)  # hours
# Per username and per client address; through the tunnel (one shared address) per username.
AXES_LOCKOUT_PARAMETERS = "ops.proxies.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "ops.proxies.client_address"
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ADMIN = False  # the attempt log is registered on the public admin site only
AXES_LOCKOUT_TEMPLATE = "security/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429

# Content-Security-Policy (django-csp) on every HTML page: the admin and the API docs load only
# this origin's scripts. Styles may be inline: Swagger UI and the admin set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Logging ----------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
_JSON_LOGS = LOG_FORMAT == "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "ops.context.RequestContextFilter"},
        "client_errors": {"()": "ops.logs.ClientErrorFilter"},
        "redact": {"()": "ops.logs.RedactSecretsFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("text", "json") else "text",
            "filters": ["request_context", "client_errors", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The tool-call audit lines stay on whatever LOG_LEVEL says.
        "mcp_bridge.audit": {"level": "INFO"},
        # Its start-up banner would be a second line in every command's one-line error.
        "axes.apps": {"level": "WARNING"},
        # JSON: every line through the one JSON handler, uvicorn's and Celery's too. ops.asgi
        # writes the access lines (with request id, tenant and token name), so uvicorn's are off.
        **(
            {
                **{
                    name: {"handlers": ["console"], "propagate": False}
                    for name in ("uvicorn", "uvicorn.error", "gunicorn.error")
                },
                "uvicorn.access": {"handlers": [], "propagate": False},
            }
            if _JSON_LOGS
            else {}
        ),
    },
}

# --- MCP endpoint -----------------------------------------------------------------------------
# Read by mcp_bridge.conf (its defaults are these); every key is documented in docs/agents.md.
# Hosts that are not tenant domains but may reach /mcp (a tunnel hostname, the upstream address).
# Django's ALLOWED_HOSTS syntax: "example.com", ".example.com" (subdomains too), "*".
MCP_ALLOWED_HOSTS: list[str] = env.list(
    "MCP_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
)
# Browser origins allowed to call /mcp; "http://localhost:*" matches any port. Empty: none.
MCP_ALLOWED_ORIGINS: list[str] = env.list("MCP_ALLOWED_ORIGINS", default=[])
MCP_TOOL_ALLOWLIST: list[str] = env.list("MCP_TOOL_ALLOWLIST", default=["check_stock"])
MCP_RATE = env.str("MCP_RATE", default="120/min")  # tool calls per token, across workers (Redis)
# Everything else a client sends (initialize, notifications, tools/list, ping), per token.
MCP_PROTOCOL_RATE = env.str("MCP_PROTOCOL_RATE", default="1200/min")
MCP_MAX_BODY_BYTES = env.int("MCP_MAX_BODY_BYTES", default=64 * 1024)
# While the database is unreachable, a token that authenticated within this many seconds is still
# accepted (so the caller gets "cannot be confirmed", not a misleading 401). 0 turns it off.
MCP_AUTH_STALE_SECONDS = env.int("MCP_AUTH_STALE_SECONDS", default=300)
# Public URL of the endpoint for RFC 9728 metadata; empty: derived from each request.
MCP_RESOURCE_URL = env.str("MCP_RESOURCE_URL", default="")

# --- OAuth 2.1 for agents (mcp_bridge.oauth, docs/agents.md#oauth) --------------------------------------
# Off: only static `inv_` tokens; no metadata names an authorization server, so clients are never
# sent into a flow that cannot succeed.
MCP_OAUTH_ENABLED = env.bool("MCP_OAUTH_ENABLED", default=True)
# Public origins whose scheme the server cannot see (a TLS-terminating tunnel edge, e.g.
# "https://mcp.example.com"): resource URLs and issuers on that host use this scheme.
MCP_OAUTH_PUBLIC_ORIGINS: list[str] = env.list("MCP_OAUTH_PUBLIC_ORIGINS", default=[])
# Operators' bearer token for RFC 7662 introspection at /t/<schema>/oauth/introspect/; empty: off.
MCP_OAUTH_INTROSPECTION_TOKEN = env.str("MCP_OAUTH_INTROSPECTION_TOKEN", default="")
# Two toolkit deploy warnings that do not fit per-tenant issuers, each handled here instead:
# W005 (no RFC 9207 `iss` in the authorization response): the toolkit derives `iss` from one
#   global issuer, which would name no tenant's issuer (/t/<schema>/oauth); the metadata does not
#   advertise `authorization_response_iss_parameter_supported`, so clients do not expect it.
# W008 (http redirect URIs allowed): needed for native apps' loopback callbacks (RFC 8252);
#   mcp_bridge.oauth.views.RegistrationView allows http on loopback hosts only.
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W005", "oauth2_provider.W008"]
OAUTH2_PROVIDER = {
    "SCOPES": {"mcp": "Check stock levels through the MCP endpoint"},
    "DEFAULT_SCOPES": ["mcp"],
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only: `plain` is refused
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # only SHA-256 checksums of tokens are stored
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "ALLOW_URI_WILDCARDS": False,  # exact redirect URI match
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("MCP_OAUTH_ACCESS_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("MCP_OAUTH_REFRESH_TOKEN_SECONDS", default=30 * 86400),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a rotated-out refresh token revokes its family
    "REQUEST_APPROVAL_PROMPT": "force",  # every authorization is shown to the keeper
    "OIDC_ENABLED": False,
    # Serves the authorization code and refresh token grants only (oauthlib's Server would also
    # answer client_credentials and password grants, which need no keeper's consent).
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.WebApplicationServer",
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "none",
        "client_secret_post",
        "client_secret_basic",
    ],
    "DCR_ENABLED": True,  # RFC 7591, open: a registered client can do nothing without consent
    "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
    "CIMD_ENABLED": True,  # a client_id that is an https URL of its metadata document
    # The toolkit's SSRF-hardened fetcher (https, public addresses only, no redirects, capped);
    # replaceable, e.g. by one that goes through an egress proxy.
    "CIMD_METADATA_FETCHER": env.str(
        "MCP_OAUTH_CIMD_FETCHER", default="oauth2_provider.cimd.SafeMetadataFetcher"
    ),
    "CIMD_FETCH_TIMEOUT_SECONDS": 5,
    "CIMD_MAX_DOCUMENT_SIZE": 16 * 1024,
}

# --- Operations -------------------------------------------------------------------------------
# Read by ops.conf (its defaults are these); every key is documented in docs/operations.md.
OPERATIONS: dict[str, object] = {
    # /metrics needs `Authorization: Bearer <METRICS_TOKEN>`, or a client address inside one of
    # METRICS_ALLOW_FROM (CIDRs). Neither set: /metrics answers 403. Never list loopback when a
    # tunnel connector runs on this host: tunnelled requests arrive from 127.0.0.1 too.
    "METRICS_TOKEN": env.str("METRICS_TOKEN", default=""),
    "METRICS_ALLOW_FROM": env.list("METRICS_ALLOW_FROM", default=[]),
    # On (production's default): only the token opens /metrics, METRICS_ALLOW_FROM is ignored.
    "METRICS_REQUIRE_TOKEN": env.bool("METRICS_REQUIRE_TOKEN", default=False),
    "METRICS_QUEUES": env.list("METRICS_CELERY_QUEUES", default=["default", "tunnel"]),
    "READYZ_TIMEOUT": env.float("READYZ_TIMEOUT", default=2.0),
    "READYZ_MIGRATIONS_TTL": env.float("READYZ_MIGRATIONS_TTL", default=30.0),
    "LOW_STOCK_INTERVAL": env.float("LOW_STOCK_INTERVAL", default=3600.0),
    "WEBHOOK_TIMEOUT": env.float("LOW_STOCK_WEBHOOK_TIMEOUT", default=5.0),
    "WEBHOOK_MAX_RETRIES": env.int("LOW_STOCK_WEBHOOK_MAX_RETRIES", default=6),
    "WEBHOOK_BACKOFF_MAX": env.int("LOW_STOCK_WEBHOOK_BACKOFF_MAX", default=600),
    # Webhook URLs are typed by tenant admins: private, loopback and link-local targets are
    # refused unless this is on (tests, single-tenant installs).
    "WEBHOOK_ALLOW_PRIVATE": env.bool("LOW_STOCK_WEBHOOK_ALLOW_PRIVATE", default=False),
    # Ports a webhook URL may name ("*": any). The host is resolved once and the request goes to
    # exactly the checked address (inventory.low_stock.webhook_target_pin).
    "WEBHOOK_PORTS": env.list("LOW_STOCK_WEBHOOK_PORTS", default=["80", "443"]),
    # A frozen server enforces no statement_timeout: the client cuts every database wait of a
    # /mcp or /api/ request this many seconds after the request arrived (ops.deadline).
    "DB_REQUEST_DEADLINE": env.float("DB_REQUEST_DEADLINE", default=4.0),
    # Request bodies are capped before anything reads them (ops.limits): this many bytes
    # on every path, except the path prefixes in BODY_CAPS ("prefix=bytes,...", longest wins).
    "MAX_BODY_BYTES": DATA_UPLOAD_MAX_MEMORY_SIZE,
    "BODY_CAPS": env.dict(
        "REQUEST_BODY_CAPS",
        cast={"value": int},
        default={"/mcp": MCP_MAX_BODY_BYTES, "/admin/": 10 * 1024 * 1024},
    ),
}

# --- REST API ---------------------------------------------------------------------------------
# One namespaced dict read by inventory.api.conf (its defaults are these); every key is documented in docs/api.md.
INVENTORY_API: dict[str, object] = {
    "RATE": env.str("API_RATE", default="600/min"),  # per token, shared with MCP (ratelimit.py)
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "MAX_PAGE_SIZE": env.int("API_MAX_PAGE_SIZE", default=200),
    "MAX_BODY_BYTES": DATA_UPLOAD_MAX_MEMORY_SIZE,
}
# Unusable bearer tokens (REST and MCP) per client address, counted in Redis: past this rate
# the address gets 429 until the window ends (tenancy.ratelimit).
AUTH_FAILURE_RATE = env.str("AUTH_FAILURE_RATE", default="20/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["inventory.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["inventory.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["inventory.api.throttling.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["inventory.api.parsers.CappedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "inventory.api.pagination.CappedPagination",
    "DEFAULT_FILTER_BACKENDS": ["inventory.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "inventory.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Inventory API",
    "DESCRIPTION": "Per-tenant stock, items, locations, movements and restocks. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {"MovementKindEnum": "inventory.models.MovementKind.choices"},
    # Swagger UI from drf-spectacular-sidecar's static files: the docs work offline and load no
    # script from a CDN onto the admin's origin.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


# --- Tunnel worker ----------------------------------------------------------------------------
# One namespaced dict read by tunnel_worker.conf (its defaults are these); every key is documented in docs/tunnel.md.
# Each key is read from the environment variable TUNNEL_<KEY>, as the type of its default.
TUNNEL_WORKER: dict[str, object] = _from_environment(
    "TUNNEL_",
    {
        "BACKEND": "off",  # ssh | cloudflared | command | off
        "NAME": "default",
        # The MCP-only listener (config.asgi:tunnel_application), never the internal port 8000.
        "UPSTREAM": "http://127.0.0.1:8001",
        "PUBLIC_URL": "",
        "MCP_PATH": "/mcp",
        "SSH_HOST": "127.0.0.1",
        "SSH_PORT": 22,
        "SSH_USER": "tunnel",
        "SSH_KEY_FILE": "",
        "SSH_KNOWN_HOSTS": "",
        "SSH_REMOTE_BIND": "127.0.0.1",
        "SSH_REMOTE_PORT": 0,
        "SSH_KEEPALIVE_INTERVAL": 5.0,
        "SSH_KEEPALIVE_COUNT_MAX": 3,
        "SSH_CONNECT_TIMEOUT": 10.0,
        "TOKEN": "",
        "CLOUDFLARED_BIN": "cloudflared",
        "CLOUDFLARED_METRICS": "127.0.0.1:20241",
        "COMMAND": "",
        # Connector processes get a minimal environment (PATH, HOME, locale, proxies); these names
        # ("NAME" or "PREFIX_*") are passed too, e.g. FRP_* for frpc. Never this service's secrets.
        "CONNECTOR_ENV": [],
        "READY_URL": "",
        "PROBE_URL": "",
        "URL_PATTERN": "",
        "AUTH_FAILURE_PATTERN": (
            r"(?i)unauthori[sz]ed|invalid (tunnel )?(token|secret)|authentication fail|"
            r"permission denied|forbidden"
        ),
        "READY_TIMEOUT": 30.0,
        "CHECK_INTERVAL": 2.0,
        "CHECK_TIMEOUT": 3.0,
        "UNREADY_GRACE": 15.0,
        "PROBE_INTERVAL": 10.0,
        "PROBE_TIMEOUT": 5.0,
        "PROBE_FAILURES": 2,
        "COMMAND_SETTLE": 2.0,
        "BACKOFF_BASE": 1.0,
        "BACKOFF_CAP": 30.0,
        "BACKOFF_RESET_AFTER": 60.0,
        "AUTH_BACKOFF_MIN": 30.0,
        "STOP_GRACE": 10.0,
        "LEASE": True,
        "LEASE_TTL": 15.0,
        "LEASE_HOLDERS": 1,
        "REDIS_URL": REDIS_URL,
        "HEARTBEAT_INTERVAL": 5.0,
        "HEARTBEAT_STALE": 30.0,
        "WATCHDOG_INTERVAL": 15.0,
        "GATES_READINESS": False,
        "EDGE_DIR": str(BASE_DIR / ".data" / "tunnel_edge"),
        "EDGE_PORT": 2222,
        "EDGE_REMOTE_PORT": 8765,
    },
)

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_HIJACK_ROOT_LOGGER = not _JSON_LOGS  # JSON logs: Celery's lines use LOGGING too
# Every periodic task, in one place.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "tunnel-watchdog": {
        "task": "tunnel_worker.tasks.tunnel_watchdog",
        "schedule": TUNNEL_WORKER["WATCHDOG_INTERVAL"],
        "options": {"expires": TUNNEL_WORKER["WATCHDOG_INTERVAL"]},
    },
    "low-stock-scan": {
        "task": "inventory.tasks.low_stock_scan_all",  # tenancy.jobs fans it out per tenant
        "schedule": OPERATIONS["LOW_STOCK_INTERVAL"],
        "options": {"expires": OPERATIONS["LOW_STOCK_INTERVAL"]},
    },
}
