"""Workspace isolation: a user of one workspace can neither read nor change
another workspace's rows through any page or API route, ids guessed included.

ROUTES contains a case for every route the application serves, so a new
route without a case fails test_every_route_has_a_case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select

from tests.web.conftest import SESSION_KEY, csrf_token, new_client, sign_in
from tests.web.factories import NOW, PASSWORD, Clinic
from warmline.models import ReferralSource, Touchpoint, TouchpointStatus
from warmline.remind.snooze_links import LINK_LIFETIME, SnoozeGrant, sign_grant
from warmline.web_models import SourceUpload, TouchpointDecision


@dataclasses.dataclass(frozen=True)
class Probe:
    """One request by Alpha's admin aimed at Beta's rows, and its expected status."""

    url: str
    expect: int
    data: dict[str, Any] | None = None
    json: Any = None
    files: dict[str, Any] | None = None
    check_leak: bool = True
    """False where the response may echo Beta's names from Alpha's own input."""
    fresh_client: bool = False
    """True for requests that end the session, so later probes keep theirs."""


Case = Callable[[Clinic, Clinic], list[Probe]]
MISSING = 999_999
"""An id that names no row of either workspace."""
ORPHAN_CSV = b"type,name,practice\nprovider,Dr. Orphan,Beta Family Medicine\n"

ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/api/openapi.json"): lambda a, b: [Probe("/api/openapi.json", 200)],
    ("GET", "/signin"): lambda a, b: [Probe("/signin", 303)],
    ("POST", "/signin"): lambda a, b: [
        Probe("/signin", 400, data={"email": b.admin_email, "password": "guess"})
    ],
    ("POST", "/signout"): lambda a, b: [
        Probe("/signout", 303, data={}, fresh_client=True)
    ],
    ("GET", "/"): lambda a, b: [Probe("/", 200), Probe("/?followups=mine", 200)],
    ("GET", "/sources"): lambda a, b: [
        Probe(f"/sources?owner={b.staff_id}", 200),
        Probe("/sources?q=beta", 200),
        Probe("/sources?status=never&tier=3", 200),
    ],
    ("GET", "/sources/{source_id}"): lambda a, b: [
        Probe(f"/sources/{b.practice_id}", 404),
        Probe(f"/sources/{b.person_id}", 404),
    ],
    ("GET", "/review"): lambda a, b: [Probe("/review", 200)],
    ("POST", "/followups/{follow_up_id}/done"): lambda a, b: [
        Probe(f"/followups/{b.follow_up_id}/done", 404, data={})
    ],
    ("POST", "/followups/{follow_up_id}/snooze"): lambda a, b: [
        Probe(f"/followups/{b.follow_up_id}/snooze", 404, data={"period": "2w"})
    ],
    ("POST", "/referrals/{referral_id}/close"): lambda a, b: [
        Probe(f"/referrals/{b.referral_id}/close", 404, data={})
    ],
    ("POST", "/review/decide"): lambda a, b: [
        Probe(
            "/review/decide",
            404,
            data={"action": "reject", "touchpoint_id": [b.review_id]},
        ),
        Probe(
            "/review/decide",
            404,
            data={
                "action": "confirm",
                "touchpoint_id": [a.review_id, b.second_review_id],
            },
        ),
    ],
    ("POST", "/review/{touchpoint_id}/reassign"): lambda a, b: [
        Probe(
            f"/review/{b.review_id}/reassign", 404, data={"target": str(a.practice_id)}
        ),
        Probe(
            f"/review/{a.review_id}/reassign", 404, data={"target": str(b.practice_id)}
        ),
        Probe(
            f"/review/{a.review_id}/reassign",
            404,
            data={"target": f"{a.practice_id}:{b.person_id}"},
        ),
    ],
    ("GET", "/accounts"): lambda a, b: [Probe("/accounts", 200)],
    ("POST", "/accounts/{account_id}/sync"): lambda a, b: [
        Probe(f"/accounts/{b.account_id}/sync", 404, data={})
    ],
    # No provider is set up here, so the connect and provider sign-in routes
    # answer 404 before any row is read; tests/web/test_connect.py checks
    # them with the emulators.
    ("POST", "/accounts/connect/{flow}"): lambda a, b: [
        Probe("/accounts/connect/google", 404, data={"staff_member_id": b.staff_id})
    ],
    ("GET", "/accounts/connect/{flow}/callback"): lambda a, b: [
        Probe("/accounts/connect/google/callback?code=c&state=s", 404)
    ],
    ("GET", "/accounts/add/{kind}"): lambda a, b: [Probe("/accounts/add/imap", 200)],
    ("POST", "/accounts/add/{kind}"): lambda a, b: [
        Probe(
            "/accounts/add/imap",
            404,
            data={
                "staff_member_id": b.staff_id,
                "host": "imap.example.com",
                "username": "beta",
                "password": "secret-password",
            },
        )
    ],
    ("GET", "/signin/oidc/{provider}"): lambda a, b: [
        Probe("/signin/oidc/google", 404)
    ],
    ("GET", "/signin/oidc/{provider}/callback"): lambda a, b: [
        Probe("/signin/oidc/microsoft/callback?code=c&state=s", 404)
    ],
    ("GET", "/audit"): lambda a, b: [Probe("/audit", 200)],
    ("GET", "/audit.csv"): lambda a, b: [Probe("/audit.csv", 200)],
    ("GET", "/imports"): lambda a, b: [Probe("/imports", 200)],
    ("GET", "/settings"): lambda a, b: [Probe("/settings", 200)],
    ("POST", "/settings"): lambda a, b: [
        Probe("/settings", 303, data={"default_cadence_days": "9"})
    ],
    ("POST", "/imports"): lambda a, b: [
        Probe(
            "/imports", 303, data={}, files={"file": ("o.csv", ORPHAN_CSV, "text/csv")}
        )
    ],
    ("GET", "/imports/{upload_id}"): lambda a, b: [
        Probe(f"/imports/{b.upload_id}", 404)
    ],
    ("POST", "/imports/{upload_id}/confirm"): lambda a, b: [
        Probe(f"/imports/{b.upload_id}/confirm", 404, data={})
    ],
    ("POST", "/api/session"): lambda a, b: [
        Probe("/api/session", 401, json={"email": b.admin_email, "password": "guess"})
    ],
    ("DELETE", "/api/session"): lambda a, b: [
        Probe("/api/session", 204, fresh_client=True)
    ],
    ("GET", "/api/me"): lambda a, b: [Probe("/api/me", 200)],
    ("GET", "/api/sources"): lambda a, b: [
        Probe(f"/api/sources?owner_id={b.staff_id}", 200),
        Probe("/api/sources?q=beta", 200),
        Probe("/api/sources?status=cold&tier=none", 200),
    ],
    ("GET", "/api/sources/{source_id}"): lambda a, b: [
        Probe(f"/api/sources/{b.practice_id}", 404),
        Probe(f"/api/sources/{b.other_person_id}", 404),
    ],
    ("GET", "/api/touchpoints"): lambda a, b: [
        Probe(f"/api/touchpoints?source_id={b.practice_id}", 200),
        Probe(f"/api/touchpoints?staff_member_id={b.staff_id}", 200),
        Probe("/api/touchpoints?status=needs_review", 200),
    ],
    ("GET", "/api/touchpoints/{touchpoint_id}"): lambda a, b: [
        Probe(f"/api/touchpoints/{b.confirmed_id}", 404)
    ],
    ("POST", "/api/touchpoints/decisions"): lambda a, b: [
        Probe(
            "/api/touchpoints/decisions",
            404,
            json={"touchpoint_ids": [b.review_id], "action": "confirm"},
        )
    ],
    ("POST", "/api/touchpoints/{touchpoint_id}/reassign"): lambda a, b: [
        Probe(
            f"/api/touchpoints/{b.review_id}/reassign",
            404,
            json={"practice_id": a.practice_id},
        ),
        Probe(
            f"/api/touchpoints/{a.review_id}/reassign",
            404,
            json={"practice_id": b.practice_id},
        ),
        Probe(
            f"/api/touchpoints/{a.review_id}/reassign",
            404,
            json={"practice_id": a.practice_id, "person_id": b.person_id},
        ),
    ],
    ("GET", "/api/followups"): lambda a, b: [
        Probe("/api/followups", 200),
        Probe("/api/followups?mine=true", 200),
    ],
    ("POST", "/api/followups/{follow_up_id}/done"): lambda a, b: [
        Probe(f"/api/followups/{b.follow_up_id}/done", 404)
    ],
    ("POST", "/api/followups/{follow_up_id}/snooze"): lambda a, b: [
        Probe(f"/api/followups/{b.follow_up_id}/snooze", 404, json={"period": "2w"})
    ],
    ("GET", "/api/loops"): lambda a, b: [Probe("/api/loops", 200)],
    ("POST", "/api/referrals/{referral_id}/close"): lambda a, b: [
        Probe(f"/api/referrals/{b.referral_id}/close", 404)
    ],
    ("GET", "/api/accounts"): lambda a, b: [Probe("/api/accounts", 200)],
    ("GET", "/api/cold"): lambda a, b: [Probe("/api/cold", 200)],
    ("POST", "/api/imports"): lambda a, b: [
        Probe(
            "/api/imports",
            201,
            files={"file": ("o.csv", ORPHAN_CSV, "text/csv")},
            check_leak=False,
        )
    ],
    ("GET", "/api/imports/{upload_id}"): lambda a, b: [
        Probe(f"/api/imports/{b.upload_id}", 404)
    ],
    ("POST", "/api/imports/{upload_id}/confirm"): lambda a, b: [
        Probe(f"/api/imports/{b.upload_id}/confirm", 404)
    ],
    # Push endpoints sign no one in: Gmail push needs its own proof, and a
    # Graph notification of an unknown subscription is acknowledged and ignored.
    ("POST", "/push/gmail"): lambda a, b: [Probe("/push/gmail", 403)],
    ("POST", "/push/graph"): lambda a, b: [
        Probe("/push/graph", 202, json={"value": [{"subscriptionId": "x"}]})
    ],
    # A follow-up feed signs no one in either: only its secret token opens it.
    ("GET", "/feeds/{token}.ics"): lambda a, b: [Probe(f"/feeds/{'A' * 43}.ics", 404)],
    # Digest snooze links sign no one in: only a token signed with the site's
    # key, for that follow-up and its assignee, opens them.
    # A token of Beta's staff member naming Alpha's follow-up is refused.
    ("GET", "/digest/follow-ups/{follow_up_id}/snooze"): lambda a, b: [
        Probe("/digest/follow-ups/1/snooze?token=forged", 400),
        Probe(
            f"/digest/follow-ups/{a.follow_up_id}/snooze"
            f"?token={snooze_token(b, a.follow_up_id)}",
            403,
        ),
        Probe(
            f"/digest/follow-ups/{MISSING}/snooze?token={snooze_token(b, MISSING)}",
            404,
        ),
    ],
    ("POST", "/digest/follow-ups/{follow_up_id}/snooze"): lambda a, b: [
        Probe("/digest/follow-ups/1/snooze", 400, data={"token": "forged"}),
        Probe(
            f"/digest/follow-ups/{a.follow_up_id}/snooze",
            403,
            data={"token": snooze_token(b, a.follow_up_id)},
        ),
        Probe(
            f"/digest/follow-ups/{MISSING}/snooze",
            404,
            data={"token": snooze_token(b, MISSING)},
        ),
    ],
}


def snooze_token(clinic: Clinic, follow_up_id: int) -> str:
    """Sign a snooze link for a follow-up of `clinic`'s staff member."""
    grant = SnoozeGrant(
        clinic.workspace_id, clinic.staff_id, follow_up_id, "2w", NOW + LINK_LIFETIME
    )
    return sign_grant(SESSION_KEY.encode(), grant)


def served_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for route in iter_route_contexts(app.routes):
        if route.path == "/static" or not route.methods:
            continue
        for method in route.methods - {"HEAD"}:
            routes.add((method, route.path))
    return routes


def test_every_route_has_a_case(app):
    assert served_routes(app) == set(ROUTES)


def send(client, method: str, probe: Probe):
    token = csrf_token(client)
    data = None if probe.data is None else {**probe.data, "csrf_token": token}
    headers = {"X-CSRF-Token": token}
    return client.request(
        method,
        probe.url,
        data=data,
        json=probe.json,
        files=probe.files,
        headers=headers,
    )


def beta_state(sessions, beta: Clinic) -> dict[str, Any]:
    with sessions() as session:
        statuses = dict(
            session.execute(
                select(Touchpoint.id, Touchpoint.status).where(
                    Touchpoint.workspace_id == beta.workspace_id
                )
            ).all()
        )
        return {
            "statuses": statuses,
            "sources": session.scalar(
                select(func.count(ReferralSource.id)).where(
                    ReferralSource.workspace_id == beta.workspace_id
                )
            ),
            "decisions": session.scalar(select(func.count(TouchpointDecision.id))),
            "imported": session.get_one(SourceUpload, beta.upload_id).imported_at,
        }


def test_no_route_reaches_other_workspace(app, client, clinic, other_clinic, sessions):
    before = beta_state(sessions, other_clinic)
    assert sign_in(client, clinic.admin_email).status_code == 303

    for (method, _path), case in sorted(ROUTES.items()):
        for probe in case(clinic, other_clinic):
            if probe.fresh_client:
                with new_client(app) as fresh:
                    sign_in(fresh, clinic.admin_email)
                    response = send(fresh, method, probe)
            else:
                response = send(client, method, probe)

            assert response.status_code == probe.expect, (
                method,
                probe.url,
                response.text,
            )
            if probe.check_leak:
                assert "Beta" not in response.text, (method, probe.url)
                assert "beta-" not in response.text, (method, probe.url)

    after = beta_state(sessions, other_clinic)
    assert after == before
    assert set(after["statuses"].values()) == {
        TouchpointStatus.CONFIRMED,
        TouchpointStatus.NEEDS_REVIEW,
    }


def test_import_cannot_use_other_workspace_practice(admin_client, other_clinic):
    response = admin_client.post(
        "/api/imports",
        files={"file": ("o.csv", ORPHAN_CSV, "text/csv")},
        headers={"X-CSRF-Token": csrf_token(admin_client)},
    )

    assert response.json()["ok"] is False
    assert "is not in the file or the database" in response.json()["file_errors"][0]


def test_me_reports_own_workspace(admin_client, clinic, other_clinic):
    body = admin_client.get("/api/me").json()

    assert body["workspace_id"] == clinic.workspace_id
    assert body["staff_member_id"] == clinic.staff_id
    assert PASSWORD not in str(body)
