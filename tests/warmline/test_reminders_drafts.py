"""Follow-up drafts from templates, and their rewrite by an OpenAI-compatible model.

The model is a small server on loopback that records every request, so the
tests check what the prompt held and that nothing is sent when the rewrite
is off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import warmline.cli.reminder_commands  # noqa: F401  (registers the commands)
from tests.reminders.factories import World
from warmline import remind
from warmline.cli import main
from warmline.models import FollowUp, ReferralSource, SourceKind
from warmline.remind.drafts import draft_facts, template_draft
from warmline.secrets import Fernet
from warmline.workspaces import get_or_create_workspace

AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
API_KEY = "sk-test-0123456789"
MODEL = "test-model"
REWRITTEN = "Dear Dr. Lopez,\n\nWarm thanks from all of us.\n\nSam Ortiz"
PATIENT_SUBJECT = "Knee MRI for John Smith, DOB 1961-04-12"


@dataclasses.dataclass
class ModelServer:
    """Records each request's path, headers and JSON body."""

    port: int
    requests: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    status: int = 200

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@contextlib.contextmanager
def model_server() -> Iterator[ModelServer]:
    state = ModelServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            length = int(self.headers["content-length"])
            state.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("authorization"),
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            reply = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": REWRITTEN},
                        "finish_reason": "stop",
                    }
                ],
            }
            payload = json.dumps(reply).encode()
            self.send_response(state.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with model_server() as running:
        yield running


@pytest.fixture
def env() -> dict[str, str]:
    return {"WARMLINE_SECRET_KEYS": Fernet.generate_key().decode()}


def run(url: str, *args: str, env: dict[str, str], code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--database", url, *args], env=env)
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


@pytest.fixture
def follow_ups(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Sam met Dr. Lopez three days ago; she has referred three patients."""
    with sessions.begin() as session:
        world = World(session)
        sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
        riverside = world.practice("Riverside Family Medicine", owner=sam, cadence=30)
        lopez = world.provider(
            "Maria L. Lopez, MD",
            riverside,
            owner=sam,
            cadence=30,
            emails=["mlopez@riverside-fm.example"],
        )
        world.touch(
            riverside,
            dt.datetime(2026, 11, 27, 17, tzinfo=dt.UTC),
            sam,
            kind="meeting",
            person=lopez,
            subject=PATIENT_SUBJECT,
        )
        world.referral(lopez, dt.date(2026, 9, 15), count=2)
        world.referral(lopez, dt.date(2026, 11, 24))
        cedar = world.practice("Cedar Internal Medicine", owner=sam, cadence=30)
        world.touch(cedar, dt.datetime(2026, 10, 17, 15, tzinfo=dt.UTC), sam)
        world.referral(cedar, dt.date(2026, 6, 2))
        remind.run_reminders(session, world.workspace, AS_OF)
        rows = session.execute(
            select(FollowUp.reason, FollowUp.id).where(FollowUp.source_id == lopez.id)
        )
        found = dict(rows.all())
        found["cedar"] = session.scalars(
            select(FollowUp.id).where(FollowUp.source_id == cedar.id)
        ).one()
        return found


def test_thank_you_draft_from_templates(database_url, follow_ups, env):
    output = run(
        database_url, "followups", "draft", str(follow_ups["thank_you"]),
        "--as-of", "2026-12-01", env=env,
    )  # fmt: skip

    assert output.startswith(
        "To: Maria L. Lopez, MD <mlopez@riverside-fm.example>\n"
        "Subject: Thank you for meeting with us\n\n"
        "Dear Dr. Lopez,\n\n"
        "Thank you for taking the time to meet with me on November 27, 2026.\n"
    )
    assert output.endswith("Best regards,\nSam Ortiz\n\n(drafted from templates)\n")
    assert "John Smith" not in output


def test_practice_thank_you_names_who_met(sessions, follow_ups):
    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        riverside = session.scalars(
            select(ReferralSource).where(ReferralSource.kind == SourceKind.PRACTICE)
        ).first()
        assert riverside is not None
        facts, _address = draft_facts(
            session, workspace, follow_ups["thank_you"], AS_OF
        )
    practice_facts = dataclasses.replace(
        facts, source_name=riverside.name, source_kind="practice"
    )

    draft = template_draft(practice_facts, None)

    assert draft.body.startswith(
        "Dear Riverside Family Medicine team,\n\n"
        "Thank you for taking the time to meet with me on November 27, 2026. "
        "It was good to see Maria L. Lopez, MD.\n"
    )


def test_close_loop_draft_counts_referrals(database_url, follow_ups, env):
    output = run(
        database_url, "followups", "draft", str(follow_ups["close_loop"]),
        "--as-of", "2026-12-01", env=env,
    )  # fmt: skip

    assert "Subject: An update on your recent referrals\n" in output
    assert (
        "Thank you for the 3 referrals you sent us since September 15, 2026." in output
    )
    assert "[Add each patient's progress here" in output


def test_cold_draft_names_last_touch(database_url, follow_ups, env):
    output = run(
        database_url, "followups", "draft", str(follow_ups["cedar"]),
        "--as-of", "2026-12-01", env=env,
    )  # fmt: skip

    assert output.startswith(
        "To: Cedar Internal Medicine\n"
        "Subject: Checking in\n\n"
        "Dear Cedar Internal Medicine team,\n\n"
        "It has been a while since we last were in touch, on October 17, 2026, "
        "and I wanted to check in.\n\n"
        "Thank you for the 1 patient you referred to us over the past year.\n"
    )


def test_nothing_sent_when_rewrite_off(database_url, follow_ups, env, server):
    run(database_url, "config", "set", "draft_llm_model", MODEL, env=env)
    run(database_url, "secrets", "set-draft-api-key", "--api-key", API_KEY, env=env)

    output = run(
        database_url, "followups", "draft", str(follow_ups["thank_you"]), env=env
    )

    assert output.endswith("(drafted from templates)\n")
    assert server.requests == []


def test_rewrite_prompt_holds_no_patient_details(database_url, follow_ups, env, server):
    run(database_url, "config", "set", "draft_llm_base_url", server.base_url, env=env)
    run(database_url, "config", "set", "draft_llm_model", MODEL, env=env)
    run(database_url, "secrets", "set-draft-api-key", "--api-key", API_KEY, env=env)
    draft = [
        "followups",
        "draft",
        str(follow_ups["thank_you"]),
        "--as-of",
        "2026-12-01",
    ]

    rewritten = run(database_url, *draft, env=env)
    run(database_url, "config", "set", "draft_llm_base_url", "", env=env)
    after_off = run(database_url, *draft, env=env)

    assert rewritten.endswith(f"\n\n{REWRITTEN}\n\n(rewritten by {MODEL})\n")
    assert after_off.endswith("(drafted from templates)\n")
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == f"Bearer {API_KEY}"
    assert request["body"]["model"] == MODEL
    prompt = json.dumps(request["body"]["messages"])
    assert "Dr. Lopez" in prompt
    assert "Sam Ortiz" in prompt
    assert "November 27, 2026" in prompt
    for private in ["John Smith", "1961", "Knee", "MRI", "mlopez@", "sam@"]:
        assert private not in prompt, private


def test_failed_rewrite_keeps_template(database_url, follow_ups, env, server):
    server.status = 500
    run(database_url, "config", "set", "draft_llm_base_url", server.base_url, env=env)
    run(database_url, "config", "set", "draft_llm_model", MODEL, env=env)

    output = run(
        database_url, "followups", "draft", str(follow_ups["thank_you"]), env=env
    )

    assert "Dear Dr. Lopez,\n\nThank you for taking the time" in output
    assert output.endswith(
        f"(rewrite by {MODEL} failed (HTTP 500); showing the draft from templates)\n"
    )
    assert server.requests[0]["authorization"] is None


def test_rewrite_needs_model(database_url, follow_ups, env, server):
    run(database_url, "config", "set", "draft_llm_base_url", server.base_url, env=env)

    output = run(
        database_url, "followups", "draft", str(follow_ups["cedar"]), env=env, code=1
    )

    assert "draft_llm_model is not set" in output
    assert server.requests == []


def test_draft_unknown_follow_up(database_url, follow_ups, env):
    output = run(database_url, "followups", "draft", "999999", env=env, code=1)

    assert "no follow-up with id 999999; see 'warmline followups list'" in output
