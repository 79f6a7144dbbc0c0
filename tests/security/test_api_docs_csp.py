"""The API docs load only from this origin (drf-spectacular-sidecar, no CDN) and work offline;
the admin and the docs carry a Content-Security-Policy that allows only this origin's scripts."""

from __future__ import annotations

import re

import httpx

from tests.inventory.conftest import browser  # noqa: F401 - the Chromium fixture

HOST = "alpha.localhost"


def _csp(response: httpx.Response) -> dict[str, str]:
    header = response.headers.get("content-security-policy", "")
    return {d.split()[0]: d.strip() for d in header.split(";") if d.strip()}


def test_docs_reference_only_local_files_that_exist(server, tenant_a):  # noqa: ANN001
    with httpx.Client(base_url=server.url, headers={"Host": HOST}, timeout=30) as client:
        page = client.get("/api/v1/docs/")
        assert page.status_code == 200
        assert "cdn." not in page.text and "//" not in re.sub(r"<!DOCTYPE[^>]*>", "", page.text)
        assert "<script>" not in page.text  # no inline script: CSP script-src 'self' holds
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert any("swagger-ui-bundle.js" in a for a in assets)
        for asset in assets:
            assert asset.startswith("/"), asset
            loaded = client.get(asset.replace("&amp;", "&"))
            assert loaded.status_code == 200, asset
        policy = _csp(page)
        assert policy["script-src"] == "script-src 'self'"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"


def test_admin_pages_carry_the_policy(server, tenant_a):  # noqa: ANN001
    for host in (HOST,):
        login = httpx.get(server.url + "/admin/login/", headers={"Host": host})
        assert login.status_code == 200
        policy = _csp(login)
        assert policy["default-src"] == "default-src 'self'"
        assert policy["script-src"] == "script-src 'self'"
        assert policy["object-src"] == "object-src 'none'"


def test_docs_render_offline_in_chromium_without_policy_violations(browser, server, tenant_a):  # noqa: ANN001, F811
    page = browser.new_page()
    outside: list[str] = []
    violations: list[str] = []

    def only_loopback(route) -> None:  # noqa: ANN001
        if route.request.url.startswith(f"http://{HOST}:{server.port}/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"http://{HOST}:{server.port}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "Inventory API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)  # the schema loaded, too
    page.goto(f"http://{HOST}:{server.port}/admin/login/")
    page.wait_for_selector("#id_username")
    assert outside == [] and violations == []
