"""Movements (idempotency, 409 on insufficient stock, the token as actor) and restocks."""

import uuid

from tenancy.models import ApiToken
from tests.api.conftest import ledger_count, make_item, make_location, move, receive


def _actor_of(raw_token: str) -> str:
    prefix = raw_token.split("_")[1]
    return f"token:{prefix}:{ApiToken.objects.get(prefix=prefix).name}"


def test_receipt_issue_and_transfer_record_the_token_as_actor(api_a, token_a, unique_sku):
    make_item(api_a, unique_sku)
    here, there = make_location(api_a), make_location(api_a)
    received = receive(api_a, unique_sku, here, 10)
    assert received["actor"] == _actor_of(token_a)
    assert (received["kind"], received["quantity"], received["to_location"]) == (
        "receipt",
        10,
        here,
    )
    transfer = move(
        api_a,
        kind="transfer",
        sku=unique_sku,
        quantity=4,
        from_location=here,
        to_location=there,
        reason="rebalance",
    )
    assert transfer.status_code == 201, transfer.text
    issue = move(api_a, kind="issue", sku=unique_sku, quantity=1, from_location=there)
    assert issue.status_code == 201
    stock = api_a.get(f"/stock/{unique_sku}").json()
    assert stock["quantity"] == 9
    assert {row["location"]: row["quantity"] for row in stock["locations"]} == {here: 6, there: 3}
    ledger = api_a.get("/movements", params={"sku": unique_sku}).json()["results"]
    assert [m["kind"] for m in ledger] == ["issue", "transfer", "receipt"]
    assert {m["actor"] for m in ledger} == {_actor_of(token_a)}


def test_movement_list_filters(api_a, unique_sku):
    make_item(api_a, unique_sku)
    here, there = make_location(api_a), make_location(api_a)
    first = receive(api_a, unique_sku, here, 5)
    receive(api_a, unique_sku, there, 5)

    def ids(**params: str) -> list[int]:
        resp = api_a.get("/movements", params={"sku": unique_sku, **params})
        assert resp.status_code == 200, resp.text
        return [m["id"] for m in resp.json()["results"]]

    assert len(ids()) == 2
    assert ids(location=here) == [first["id"]]
    assert ids(kind="issue") == []
    assert len(ids(since=first["created_at"])) == 2
    assert ids(until=first["created_at"]) == []
    assert api_a.get("/movements", params={"kind": "teleport"}).status_code == 400
    assert api_a.get("/movements", params={"since": "yesterday"}).status_code == 400


def test_a_movement_needs_an_idempotency_key(api_a, unique_sku):
    make_item(api_a, unique_sku)
    body = {
        "kind": "receipt",
        "sku": unique_sku,
        "quantity": 1,
        "to_location": make_location(api_a),
    }
    resp = api_a.post("/movements", json=body)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "idempotency_key_required"
    assert (
        api_a.post("/movements", json=body, headers={"Idempotency-Key": "x" * 101}).status_code
        == 400
    )


def test_replay_returns_the_original_and_a_changed_body_is_a_409(api_a, tenant_a, unique_sku):
    make_item(api_a, unique_sku)
    code = make_location(api_a)
    key = uuid.uuid4().hex
    body = {"kind": "receipt", "sku": unique_sku, "quantity": 3, "to_location": code}
    first = move(api_a, key=key, **body)
    assert first.status_code == 201
    count = ledger_count(tenant_a)

    replay = move(api_a, key=key, **body)
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert ledger_count(tenant_a) == count

    for changed in ({"quantity": 4}, {"reason": "another"}):
        conflict = move(api_a, key=key, **{**body, **changed})
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert ledger_count(tenant_a) == count
    assert api_a.get(f"/stock/{unique_sku}").json()["quantity"] == 3


def test_insufficient_stock_is_a_409_and_changes_nothing(api_a, tenant_a, unique_sku):
    make_item(api_a, unique_sku)
    code = make_location(api_a)
    receive(api_a, unique_sku, code, 2)
    count = ledger_count(tenant_a)
    resp = move(api_a, kind="issue", sku=unique_sku, quantity=3, from_location=code)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "insufficient_stock"
    assert "2 on hand, 3 requested" in resp.json()["error"]["message"]
    assert ledger_count(tenant_a) == count
    assert api_a.get(f"/stock/{unique_sku}").json()["quantity"] == 2


def test_movement_rules_and_references_are_400s(api_a, unique_sku):
    make_item(api_a, unique_sku)
    code = make_location(api_a)
    cases = [
        ({"kind": "receipt", "sku": unique_sku, "quantity": 1}, None),  # no destination
        (
            {
                "kind": "transfer",
                "sku": unique_sku,
                "quantity": 1,
                "from_location": code,
                "to_location": code,
            },
            None,
        ),
        ({"kind": "receipt", "sku": unique_sku, "quantity": 0, "to_location": code}, "quantity"),
        ({"kind": "receipt", "sku": unique_sku, "quantity": "1", "to_location": code}, "quantity"),
        (
            {"kind": "receipt", "sku": unique_sku, "quantity": 1, "to_location": "NOPE-X"},
            "to_location",
        ),
        ({"kind": "receipt", "sku": "NO-SUCH-SKU-1", "quantity": 1, "to_location": code}, "sku"),
        ({"kind": "teleport", "sku": unique_sku, "quantity": 1, "to_location": code}, "kind"),
    ]
    for body, field in cases:
        resp = move(api_a, **body)
        assert resp.status_code == 400, (body, resp.text)
        if field:
            assert field in resp.json()["error"]["fields"], body


def test_restocks_list_create_and_receive(api_a, token_a, unique_sku):
    make_item(api_a, unique_sku)
    code = make_location(api_a)
    created = api_a.post(
        "/restocks",
        json={"sku": unique_sku, "quantity": 8, "expected_date": "2099-05-01", "location": code},
    )
    assert created.status_code == 201, created.text
    restock = created.json()
    assert (restock["status"], restock["receipt"], restock["location"]) == ("open", None, code)
    listed = api_a.get("/restocks", params={"sku": unique_sku, "status": "open"}).json()
    assert [r["id"] for r in listed["results"]] == [restock["id"]]

    received = api_a.post(f"/restocks/{restock['id']}/receive", json={})
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received"
    receipt = received.json()["receipt"]
    again = api_a.post(f"/restocks/{restock['id']}/receive", json={})
    assert (again.status_code, again.json()["receipt"]) == (200, receipt)
    assert api_a.get(f"/stock/{unique_sku}").json()["quantity"] == 8
    ledger = api_a.get("/movements", params={"sku": unique_sku}).json()["results"]
    assert [(m["id"], m["actor"]) for m in ledger] == [(receipt, _actor_of(token_a))]
    assert api_a.get("/restocks", params={"sku": unique_sku, "status": "open"}).json()["count"] == 0


def test_receiving_a_restock_without_a_location_needs_one(api_a, unique_sku):
    make_item(api_a, unique_sku)
    code = make_location(api_a)
    restock = api_a.post(
        "/restocks", json={"sku": unique_sku, "quantity": 2, "expected_date": "2099-05-01"}
    ).json()
    assert restock["location"] is None
    refused = api_a.post(f"/restocks/{restock['id']}/receive", json={})
    assert refused.status_code == 400
    ok = api_a.post(f"/restocks/{restock['id']}/receive", json={"location": code})
    assert ok.status_code == 200
    assert api_a.post("/restocks/2147483000/receive", json={}).status_code == 404


def test_on_hand_beyond_what_the_database_holds_is_a_400_not_a_500(api_a, unique_sku):
    make_item(api_a, unique_sku)
    code = make_location(api_a)
    most = 2**31 - 1
    receive(api_a, unique_sku, code, most)
    resp = move(api_a, kind="receipt", sku=unique_sku, quantity=1, to_location=code)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "out_of_range"
    assert api_a.get(f"/stock/{unique_sku}").json()["quantity"] == most
