"""Items, locations and the stock endpoint, and the one SKU rule on every SKU input."""

import uuid

import pytest

from inventory.validators import SKU_RULE
from tests.api.conftest import make_item, make_location, move, new_code, receive

SKU_MESSAGE = f"invalid SKU: {SKU_RULE}"


def test_create_and_retrieve_an_item(api_a, unique_sku):
    created = make_item(api_a, unique_sku, unit="box", reorder_point=4)
    assert created["sku"] == unique_sku
    assert created["unit"] == "box"
    assert created["reorder_point"] == 4
    assert created["on_hand"] == 0
    assert created["next_restock"] is None
    assert api_a.get(f"/items/{unique_sku}").json() == created


def test_a_duplicate_sku_is_a_409(api_a, unique_sku):
    make_item(api_a, unique_sku)
    resp = api_a.post("/items", json={"sku": unique_sku, "name": "again"})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "already_exists"
    assert "sku" in resp.json()["error"]["fields"]


def test_an_unknown_sku_on_an_item_endpoint_is_a_404(api_a, unique_sku):
    for resp in (api_a.get(f"/items/{unique_sku}"), api_a.patch(f"/items/{unique_sku}", json={})):
        assert resp.status_code == 404
        assert resp.json() == {
            "error": {"code": "not_found", "message": "no item with this SKU", "fields": {}}
        }


def test_an_unknown_sku_on_the_stock_endpoint_is_not_found_in_a_200(api_a, unique_sku):
    resp = api_a.get(f"/stock/{unique_sku}")
    assert resp.status_code == 200
    assert resp.json() == {
        "sku": unique_sku,
        "found": False,
        "quantity": None,
        "restock_date": None,
        "locations": [],
    }


def test_stock_is_the_snapshot_plus_locations(api_a, unique_sku):
    make_item(api_a, unique_sku)
    first, second = sorted([new_code(), new_code()])
    make_location(api_a, first)
    make_location(api_a, second)
    receive(api_a, unique_sku, first, 7)
    receive(api_a, unique_sku, second, 5)
    restock = {"sku": unique_sku, "quantity": 9, "expected_date": "2099-01-02"}
    assert api_a.post("/restocks", json=restock).status_code == 201
    assert api_a.get(f"/stock/{unique_sku}").json() == {
        "sku": unique_sku,
        "found": True,
        "quantity": 12,
        "restock_date": "2099-01-02",
        "locations": [{"location": first, "quantity": 7}, {"location": second, "quantity": 5}],
    }
    item = api_a.get(f"/items/{unique_sku}").json()
    assert (item["on_hand"], item["next_restock"]) == (12, "2099-01-02")


@pytest.mark.parametrize(
    "bad", ["-starts-with-dash", "has space", "x" * 65, "ünïcode", "semi;colon"]
)
def test_every_sku_input_answers_with_the_one_sku_rule(api_a, bad):
    code = make_location(api_a)
    answers = [
        api_a.get(f"/stock/{bad}"),
        api_a.get(f"/items/{bad}"),
        api_a.patch(f"/items/{bad}", json={"name": "x"}),
        api_a.post("/items", json={"sku": bad, "name": "x"}),
        move(api_a, kind="receipt", sku=bad, quantity=1, to_location=code),
        api_a.post("/restocks", json={"sku": bad, "quantity": 1, "expected_date": "2030-01-01"}),
        api_a.get("/movements", params={"sku": bad}),
        api_a.get("/restocks", params={"sku": bad}),
    ]
    for resp in answers:
        assert resp.status_code == 400, resp.request.url
        assert resp.json()["error"]["code"] == "invalid"
        assert resp.json()["error"]["fields"]["sku"] == [SKU_MESSAGE]


def test_an_empty_sku_also_gets_the_sku_rule(api_a):
    resp = api_a.post("/items", json={"sku": "", "name": "x"})
    assert resp.json()["error"]["fields"]["sku"] == [SKU_MESSAGE]


def test_update_changes_descriptive_fields_only(api_a, unique_sku):
    make_item(api_a, unique_sku)
    resp = api_a.patch(
        f"/items/{unique_sku}", json={"name": "Renamed", "reorder_point": 3, "active": False}
    )
    assert resp.status_code == 200
    assert (resp.json()["name"], resp.json()["reorder_point"], resp.json()["active"]) == (
        "Renamed",
        3,
        False,
    )
    for field in ("on_hand", "sku"):
        refused = api_a.patch(f"/items/{unique_sku}", json={field: 100})
        assert refused.status_code == 400
        assert field in refused.json()["error"]["fields"]
    assert api_a.get(f"/items/{unique_sku}").json()["on_hand"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": 123},
        {"name": ""},
        {"reorder_point": "5"},
        {"reorder_point": -1},
        {"reorder_point": 2**31},
        {"active": "yes"},
        {"name": "x" * 201},
    ],
)
def test_wrong_types_and_ranges_are_400s_not_coerced(api_a, unique_sku, body):
    make_item(api_a, unique_sku)
    resp = api_a.patch(f"/items/{unique_sku}", json=body)
    assert resp.status_code == 400
    assert list(resp.json()["error"]["fields"]) == list(body)


def test_list_items_with_search_active_and_low_stock(api_a):
    tag = uuid.uuid4().hex[:8].upper()
    code = make_location(api_a)
    make_item(api_a, f"{tag}-LOW", reorder_point=5)
    make_item(api_a, f"{tag}-OK", reorder_point=5)
    make_item(api_a, f"{tag}-OFF", reorder_point=5, active=False)
    receive(api_a, f"{tag}-OK", code, 6)

    def skus(**params: str) -> set[str]:
        resp = api_a.get("/items", params={"search": tag.lower(), **params})
        assert resp.status_code == 200, resp.text
        return {row["sku"] for row in resp.json()["results"]}

    assert skus() == {f"{tag}-LOW", f"{tag}-OK", f"{tag}-OFF"}
    assert skus(active="false") == {f"{tag}-OFF"}
    assert skus(low_stock="true") == {f"{tag}-LOW"}
    assert skus(low_stock="false", active="true") == {f"{tag}-OK"}
    for bad in ({"active": "yes"}, {"low_stock": ""}, {"active": "1"}):
        assert api_a.get("/items", params=bad).status_code == 400


def test_locations_list_and_create(api_a):
    code = make_location(api_a)
    listed = api_a.get("/locations", params={"search": code}).json()
    assert listed["results"] == [{"code": code, "name": f"Location {code}"}]
    again = api_a.post("/locations", json={"code": code, "name": "dup"})
    assert again.status_code == 409
    assert api_a.post("/locations", json={"code": "x" * 33, "name": "n"}).status_code == 400
