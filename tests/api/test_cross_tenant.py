"""Cross-tenant probe: tenant C's token aimed at tenant B's host or data learns nothing.

Every answer must equal the answer for something that does not exist, and B's ledger must not
change. C (api_probe) is a tenant no other test writes to, so "does not exist" is certain there.
"""

import uuid

import httpx

from tests.api.conftest import BETA, ledger_count, make_client, make_item, make_location, receive

PROBE_HOST = "api-probe.localhost"
UNKNOWN = "inv_0123456789ab_" + "y" * 43


def _requests(sku: str, location: str, restock_id: int) -> list[tuple[str, str, dict | None]]:
    move = {"kind": "issue", "sku": sku, "quantity": 1, "from_location": location}
    return [
        ("GET", f"/stock/{sku}", None),
        ("GET", f"/items/{sku}", None),
        ("PATCH", f"/items/{sku}", {"name": "stolen"}),
        ("GET", f"/items?search={sku}", None),
        ("GET", f"/movements?sku={sku}", None),
        ("GET", f"/movements?location={location}", None),
        ("GET", f"/restocks?sku={sku}", None),
        ("POST", "/movements", move),
        ("POST", "/restocks", {"sku": sku, "quantity": 5, "expected_date": "2030-01-01"}),
        ("POST", f"/restocks/{restock_id}/receive", {"location": location}),
        ("GET", "/locations?search=" + location, None),
    ]


def _probe(client: httpx.Client, requests: list) -> list[tuple[int, bytes]]:
    answers = []
    for method, path, body in requests:
        headers = {"Idempotency-Key": "probe-" + uuid.uuid4().hex} if path == "/movements" else {}
        resp = client.request(method, path, json=body, headers=headers)
        answers.append((resp.status_code, resp.content))
    return answers


def test_another_tenants_host_and_data_look_like_nothing(server, tenant_b, tenant_c, issue, api_b):
    sku, location = f"PROBE-{uuid.uuid4().hex[:8].upper()}", f"P-{uuid.uuid4().hex[:6].upper()}"
    token_c = issue(tenant_c)
    nonexistent_restock = 2_147_483_000

    with make_client(server, PROBE_HOST, token_c) as own_host:
        # Before B has anything called `sku`: the answers for resources that do not exist.
        before = _probe(own_host, _requests(sku, location, nonexistent_restock))

        make_item(api_b, sku)
        make_location(api_b, location)
        receive(api_b, sku, location, 10)
        restock = api_b.post(
            "/restocks",
            json={"sku": sku, "quantity": 3, "expected_date": "2030-01-01", "location": location},
        )
        assert restock.status_code == 201
        b_ledger, b_stock = ledger_count(tenant_b), api_b.get(f"/stock/{sku}").json()

        # C's own host, B's identifiers: identical to the answers for nothing.
        assert _probe(own_host, _requests(sku, location, nonexistent_restock)) == before
        assert _probe(own_host, _requests(sku, location, restock.json()["id"])) == before

    # C's token on B's host, B's identifiers: identical to an unknown token's answers.
    requests = _requests(sku, location, restock.json()["id"])
    with make_client(server, BETA, token_c) as foreign, make_client(server, BETA, UNKNOWN) as bad:
        answers, unknown = _probe(foreign, requests), _probe(bad, requests)
    assert answers == unknown
    assert {status for status, _ in answers} == {401}

    assert ledger_count(tenant_b) == b_ledger
    assert api_b.get(f"/stock/{sku}").json() == b_stock
    assert api_b.get(f"/restocks?sku={sku}").json()["results"][0]["status"] == "open"
