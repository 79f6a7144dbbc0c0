"""`@mcp_tool`: what every tool of this service does besides its own read, written once.

A tool is a plain function of its arguments that returns its output model; the decorator adds
the guard every tool needs, in this order:

1. the caller: no Principal (no tenant) -> an error result, audited `unauthenticated`;
2. validation: each argument named in `validate` is checked before any database access, an
   invalid one -> an error result stating the rule, audited `invalid_<argument>`;
3. the tenant: the body runs inside `tenant_db(principal)`, in the caller's schema;
4. failure is "unknown": a database error (or any other) -> "<subject> cannot be confirmed right
   now", audited `unavailable`; never `found: false` or a number;
5. the audit outcome of a result (`outcome`, default "ok") and the structured result.

The decorator registers the tool in TOOLS (name, title, description = the docstring), from which
mcp_bridge.server registers the allowlisted ones with the SDK. The SDK sees the signature the
tool declares plus `ctx: Context`, and `Annotated[CallToolResult, Output]` as the return type:
the input and output schemas come from the body's annotations, exactly as if the tool were
written by hand. Tools return a CallToolResult themselves so that an error's text is exactly what
the model should read (the SDK would prefix a raised ToolError), and the SDK still validates a
successful result against the output schema.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel

from mcp_bridge.audit import note
from mcp_bridge.db import describe_db_error, tenant_db
from mcp_bridge.principal import principal_from

logger = logging.getLogger(__name__)

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
NO_TENANT = "not authenticated: no tenant for this call"
CONTEXT_ARGUMENT = "ctx"

Output = TypeVar("Output", bound=BaseModel)


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., CallToolResult]
    title: str

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")


# Every tool this service can expose; MCP_TOOL_ALLOWLIST picks which ones a server registers.
TOOLS: dict[str, ToolSpec] = {}


def mcp_tool(
    *,
    title: str,
    output: type[Output],
    subject: str,
    validate: Mapping[str, Callable[[Any], object]] | None = None,
    outcome: Callable[[Output], str] = lambda _: "ok",
) -> Callable[[Callable[..., Output]], Callable[..., CallToolResult]]:
    """Register `body` as a tool named after it (see the module docstring for the guard).

    `subject` names what cannot be confirmed when the read fails; it is formatted with the
    call's arguments ("stock for {sku}"). `validate` maps an argument to a validator raising
    django's ValidationError.
    """
    validators = dict(validate or {})

    def register(body: Callable[..., Output]) -> Callable[..., CallToolResult]:
        name = body.__name__

        def call(**arguments: Any) -> CallToolResult:
            principal = principal_from(arguments.pop(CONTEXT_ARGUMENT).request_context)
            if principal is None:
                return error_result(NO_TENANT, outcome="unauthenticated")
            for argument, check in validators.items():
                try:
                    check(arguments[argument])  # before any database access
                except ValidationError as exc:
                    shown = str(arguments[argument])[:80]
                    return error_result(
                        f"{exc.messages[0]} (got {shown!r})", outcome=f"invalid_{argument}"
                    )
            try:
                with tenant_db(principal):
                    result = body(**arguments)
            except DatabaseError as exc:
                return cannot_confirm(subject.format(**arguments), describe_db_error(exc))
            except Exception:
                logger.exception("%s failed for tenant %s", name, principal.schema_name)
                return cannot_confirm(subject.format(**arguments), "internal error")
            note(outcome=outcome(result))
            return ok_result(result)

        _declare(call, body, output)
        TOOLS[name] = ToolSpec(call, title)
        return call

    return register


def _declare(call: Callable[..., CallToolResult], body: Callable[..., Any], output: type) -> None:
    """Give `call` the body's name, docstring and parameters, plus `ctx` and the output model."""
    returns = Annotated[CallToolResult, output]
    parameters = list(inspect.signature(body).parameters.values())
    context = inspect.Parameter(
        CONTEXT_ARGUMENT, inspect.Parameter.KEYWORD_ONLY, annotation=Context
    )
    call.__signature__ = inspect.Signature([*parameters, context], return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {
        **{p.name: p.annotation for p in parameters},
        CONTEXT_ARGUMENT: Context,
        "return": returns,
    }
    call.__name__ = call.__qualname__ = body.__name__
    call.__doc__ = body.__doc__
    call.__module__ = body.__module__


def ok_result(result: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=result.model_dump_json())],
        structured_content=result.model_dump(mode="json"),
    )


def error_result(text: str, *, outcome: str) -> CallToolResult:
    note(outcome=outcome)
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def cannot_confirm(subject: str, reason: str) -> CallToolResult:
    return error_result(
        f"{subject} cannot be confirmed right now ({reason}). "
        "Do not state a quantity or that the item does not exist; try again later.",
        outcome="unavailable",
    )
