"""The JSON API's reads: sources, touchpoints with filters, accounts, cold list."""

from __future__ import annotations


def test_openapi_document_served(client):
    document = client.get("/api/openapi.json").json()

    assert "/api/touchpoints" in document["paths"]
    assert "/review" not in document["paths"]
    assert client.get("/docs").status_code != 200


def test_sources_filters(admin_client, clinic):
    practices = admin_client.get("/api/sources", params={"kind": "practice"}).json()
    owned = admin_client.get(
        "/api/sources", params={"owner_id": clinic.staff_id}
    ).json()
    found = admin_client.get("/api/sources", params={"q": "weiss"}).json()

    assert {source["name"] for source in practices} == {
        "Alpha Family Medicine",
        "Alpha Orthopedics",
    }
    assert {source["id"] for source in owned} == {clinic.practice_id, clinic.person_id}
    assert [source["name"] for source in found] == ["Alpha Weiss, MD"]


def test_source_detail_health(admin_client, clinic):
    body = admin_client.get(f"/api/sources/{clinic.practice_id}").json()

    assert body["health"] == {
        "cadence_days": 14,
        "last_touch": "2026-11-11T15:00:00Z",
        "days_since": 20,
        "cold": True,
    }
    assert [person["name"] for person in body["people"]] == ["Alpha Lopez, MD"]
    assert body["domains"] == ["alpha-fm.example"]


def test_touchpoint_filters(admin_client, clinic):
    review = admin_client.get(
        "/api/touchpoints", params={"status": "needs_review"}
    ).json()
    recent = admin_client.get("/api/touchpoints", params={"since": "2026-11-28"}).json()
    of_person = admin_client.get(
        "/api/touchpoints", params={"source_id": clinic.person_id}
    ).json()
    paged = admin_client.get(
        "/api/touchpoints", params={"limit": 1, "offset": 1}
    ).json()

    assert [item["id"] for item in review] == [
        clinic.second_review_id,
        clinic.review_id,
    ]
    assert [item["id"] for item in recent] == [
        clinic.second_review_id,
        clinic.review_id,
    ]
    assert len(of_person) == 3
    assert [item["id"] for item in paged] == [clinic.review_id]
    assert review[0]["reasons"][0]["signal"] == "domain"


def test_touchpoint_detail_has_participants(admin_client, clinic):
    body = admin_client.get(f"/api/touchpoints/{clinic.review_id}").json()

    assert body["participants"][0] == {
        "role": "from",
        "address": "lopez@alpha-fm.example",
        "name": None,
    }
    assert body["decision"] is None


def test_accounts_counts(admin_client, clinic):
    (account,) = admin_client.get("/api/accounts").json()

    assert account["status"] == "error"
    assert account["activities_stored"] == 4
    assert account["activities_matched"] == 3
    assert account["dropped"] == {"bulk": 1}
    assert account["quarantined"] == 1
    assert account["cursor_age_seconds"] == 5 * 3600


def test_cold_list_as_of(admin_client, clinic):
    now = admin_client.get("/api/cold").json()
    earlier = admin_client.get("/api/cold", params={"as_of": "2026-11-20"}).json()

    assert "Alpha Family Medicine" in [item["name"] for item in now]
    assert "Alpha Family Medicine" not in [item["name"] for item in earlier]
