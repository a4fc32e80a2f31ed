"""Sign-in, sessions, rate limits, CSRF and roles."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import (
    cheap_passwords,
    csrf_token,
    new_client,
    sign_in,
    signin_token,
    web_settings,
)
from tests.web.factories import Clinic, FakeClock
from warmline.web_models import LoginFailure, WebSession
from web import create_app


def cookie_header(response, name: str) -> str:
    headers = response.headers.get_list("set-cookie")
    matches = [header for header in headers if header.startswith(name + "=")]
    assert matches, headers
    return matches[0]


def test_page_redirects_to_signin(client):
    response = client.get("/sources?q=x")

    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/sources%3Fq%3Dx"


def test_signin_sets_session_cookie(client, clinic):
    response = sign_in(client, clinic.admin_email.upper(), next="/review")

    assert response.status_code == 303
    assert response.headers["location"] == "/review"
    cookie = cookie_header(response, "warmline_session").lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    assert client.get("/").status_code == 200


def test_cookie_secure_over_https(app, clinic):
    with new_client(app, https=True) as client:
        response = sign_in(client, clinic.admin_email)

    assert response.status_code == 303
    assert "secure" in cookie_header(response, "warmline_session").lower()


def test_wrong_password_rejected(client, clinic, sessions):
    response = sign_in(client, clinic.admin_email, password="not the password")

    assert response.status_code == 401
    assert "address or password is wrong" in response.text
    assert "warmline_session=" not in response.headers.get("set-cookie", "")
    with sessions() as session:
        assert session.scalar(select(func.count(LoginFailure.id))) == 1


def test_unknown_user_rejected_alike(client, clinic):
    response = sign_in(client, "nobody@alpha-pt.example")

    assert response.status_code == 401
    assert "address or password is wrong" in response.text


def test_signin_form_needs_its_token(client, clinic):
    signin_token(client)

    response = client.post(
        "/signin",
        data={"email": clinic.admin_email, "password": "x", "signin_token": "forged"},
    )

    assert response.status_code == 400
    assert "expired" in response.text


def test_next_path_stays_on_site(client, clinic):
    response = sign_in(client, clinic.admin_email, next="//evil.example/")

    assert response.headers["location"] == "/"


def test_account_limited_after_five_failures(client, clinic, clock):
    for _attempt in range(5):
        assert sign_in(client, clinic.admin_email, "wrong").status_code == 401

    blocked = sign_in(client, clinic.admin_email)

    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    clock.advance(dt.timedelta(minutes=15, seconds=1))
    assert sign_in(client, clinic.admin_email).status_code == 303


def test_client_limited_across_addresses(client, clinic):
    for index in range(5):
        sign_in(client, f"guess{index}@alpha-pt.example", "wrong")

    response = sign_in(client, clinic.member_email)

    assert response.status_code == 429


def test_limit_holds_across_processes(database_url, clinic):
    clock = FakeClock()
    first = create_app(web_settings(database_url), clock, cheap_passwords())
    second = create_app(web_settings(database_url), clock, cheap_passwords())
    with new_client(first) as client:
        for _attempt in range(5):
            sign_in(client, clinic.admin_email, "wrong")

    with new_client(second) as other:
        response = sign_in(other, clinic.admin_email)

    assert response.status_code == 429
    first.state.web.engine.dispose()
    second.state.web.engine.dispose()


def test_success_clears_account_failures(client, clinic, sessions):
    for _attempt in range(4):
        sign_in(client, clinic.admin_email, "wrong")

    sign_in(client, clinic.admin_email)

    with sessions() as session:
        left = session.scalar(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.email == clinic.admin_email
            )
        )
    assert left == 0


def test_form_post_without_csrf_rejected(admin_client, clinic, sessions):
    response = admin_client.post(
        "/review/decide", data={"action": "confirm", "touchpoint_id": clinic.review_id}
    )

    assert response.status_code == 403
    assert "reload the page" in response.text


def test_form_post_with_other_session_token(app, admin_client, clinic):
    with new_client(app) as other:
        sign_in(other, clinic.member_email)
        foreign_token = csrf_token(other)

    response = admin_client.post(
        "/review/decide",
        data={
            "action": "confirm",
            "touchpoint_id": clinic.review_id,
            "csrf_token": foreign_token,
        },
    )

    assert response.status_code == 403


def test_signout_ends_session(admin_client, sessions):
    cookie = admin_client.cookies.get("warmline_session")
    token = csrf_token(admin_client)

    response = admin_client.post("/signout", data={"csrf_token": token})

    assert response.status_code == 303
    with sessions() as session:
        assert session.scalar(select(func.count(WebSession.id))) == 0
    admin_client.cookies.clear()
    admin_client.cookies.set("warmline_session", cookie)
    assert admin_client.get("/").status_code == 303


def test_session_expires(admin_client, clock):
    clock.advance(dt.timedelta(hours=12, seconds=1))

    response = admin_client.get("/")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_tampered_cookie_ignored(admin_client):
    cookie = admin_client.cookies.get("warmline_session")
    admin_client.cookies.clear()
    admin_client.cookies.set("warmline_session", cookie[:-2] + "xx")

    assert admin_client.get("/").status_code == 303


def test_api_requires_session(client):
    response = client.get("/api/sources")

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Not signed in")


def test_api_post_requires_csrf_header(admin_client, clinic):
    body = {"touchpoint_ids": [clinic.review_id], "action": "confirm"}

    missing = admin_client.post("/api/touchpoints/decisions", json=body)
    wrong = admin_client.post(
        "/api/touchpoints/decisions", json=body, headers={"X-CSRF-Token": "nope"}
    )

    assert missing.status_code == 403
    assert wrong.status_code == 403


def test_api_signin_returns_csrf(client: TestClient, clinic: Clinic):
    response = client.post(
        "/api/session",
        json={"email": clinic.member_email, "password": "correct horse battery staple"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "member"
    assert body["csrf_token"] == csrf_token(client)
    deleted = client.delete(
        "/api/session", headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert deleted.status_code == 204
    assert client.get("/api/me").status_code == 401


def test_api_signin_rate_limited(client, clinic):
    for _attempt in range(5):
        client.post(
            "/api/session", json={"email": clinic.admin_email, "password": "wrong"}
        )

    response = client.post(
        "/api/session",
        json={"email": clinic.admin_email, "password": "correct horse battery staple"},
    )

    assert response.status_code == 429
    assert "retry-after" in response.headers


def test_member_cannot_import(member_client):
    token = csrf_token(member_client)

    page = member_client.get("/imports")
    upload = member_client.post(
        "/imports",
        data={"csrf_token": token},
        files={"file": ("s.csv", b"type,name\npractice,X\n", "text/csv")},
    )
    api = member_client.post(
        "/api/imports",
        files={"file": ("s.csv", b"type,name\npractice,X\n", "text/csv")},
        headers={"X-CSRF-Token": token},
    )

    assert page.status_code == 403
    assert upload.status_code == 403
    assert api.status_code == 403
    assert "Imports" not in member_client.get("/").text.split("<main>")[0]


def test_security_headers_sent(admin_client):
    response = admin_client.get("/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
