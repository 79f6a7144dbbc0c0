"""Every tenant command (every TenantCommand) refuses an unknown tenant the same way: exit 2, one
line on stderr, nothing on stdout."""

from concurrent.futures import ThreadPoolExecutor

from django.core.management import get_commands, load_command_class

from tenancy.commands import TenantCommand
from tests.support import manage

# The other arguments each tenant command needs to get as far as resolving --tenant.
ARGUMENTS = {
    "check_stock": ["SKU-1"],
    "create_keeper": ["someone", "--password-stdin"],
    "import_stock": ["stocktake.csv"],
    "issue_token": ["--name", "n", "--scope", "stock:read"],
    "list_tokens": [],
    "mcp_stdio": [],
}


def _tenant_commands() -> list[str]:
    return sorted(
        name
        for name, app in get_commands().items()
        if isinstance(load_command_class(app, name), TenantCommand)
    )


def test_every_tenant_command_uses_the_base_and_is_listed_here() -> None:
    assert _tenant_commands() == sorted(ARGUMENTS)


def test_unknown_tenant_exits_2_with_one_line(tenant_a) -> None:  # noqa: ANN001
    def run(name: str):  # noqa: ANN202
        return name, manage(name, "--tenant", "nosuch", *ARGUMENTS[name], input="pw\n")

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(run, _tenant_commands()))
    for name, result in results.items():
        assert result.returncode == 2, (name, result.stderr)
        assert result.stdout == "", name
        lines = result.stderr.strip().splitlines()
        assert lines == [
            "CommandError: unknown tenant 'nosuch': no active tenant has this schema name"
        ], name
