"""Outlook mail through Graph message delta, against the local Graph emulator."""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors import Activity, Flag, Item, ParticipantRole, Removed
from connectors.microsoft import GraphClient, OutlookMailReader
from connectors.microsoft.mail import MailState, message_item
from tests.emulators.microsoft import FakeClock, GraphEmulator, Mailbox, address
from tests.emulators.microsoft.harness import (
    CLIENT_ID,
    LoopbackGuard,
    SignedIn,
    sign_in,
)

DATA = Path(__file__).parent.parent / "data" / "microsoft"
STAFF = "Priya Natarajan"
BASE = dt.datetime(2026, 3, 4, 15, 2, 11, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def emulator(
    tmp_path_factory: pytest.TempPathFactory, clock: FakeClock
) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-mail"), clock)
    emulator.identity.add_app(CLIENT_ID)
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackGuard]:
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture
def user(
    emulator: GraphEmulator, request: pytest.FixtureRequest
) -> Iterator[tuple[Mailbox, SignedIn]]:
    """A fresh mailbox per test, signed in through the auth-code flow."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40]
    upn = f"{name}@brookside-pt.example"
    mailbox = emulator.add_user(upn, STAFF)
    yield mailbox, sign_in(emulator, upn)
    emulator.faults.clear()
    emulator.empty_first_page = False
    emulator.repeat_partial = 0
    emulator.latency = 0.0


def seed(mailbox: Mailbox, folder: str, count: int, first: int = 0) -> list[str]:
    """Add `count` messages to a folder and return their immutable ids."""
    upn = mailbox.user.upn
    ids = []
    for index in range(first, first + count):
        if folder == "sentitems":
            sender, to = (
                address(STAFF, upn),
                [address(f"Dr {index}", f"dr{index}@cedar-im.example")],
            )
        else:
            sender, to = (
                address(f"Dr {index}", f"dr{index}@cedar-im.example"),
                [address(STAFF, upn)],
            )
        message = mailbox.add_message(
            folder,
            subject=f"Referral {index}",
            sender=sender,
            to=to,
            sent=BASE + dt.timedelta(minutes=index),
            internet_message_id=f"<m{index}@cedar-im.example>",
        )
        ids.append(message.id)
    return ids


def read(
    client: GraphClient,
    cursor: str | None,
    folders: tuple[str, ...] = ("inbox", "sentitems"),
) -> tuple[list[Item], str]:
    reader = OutlookMailReader(client, folders=folders)
    items = list(reader.read(cursor))
    assert reader.final_cursor is not None
    return items, reader.final_cursor


def activities(items: list[Item]) -> list[Activity]:
    return [item for item in items if isinstance(item, Activity)]


def removed(items: list[Item]) -> list[str]:
    return [item.provider_key for item in items if isinstance(item, Removed)]


def test_delta_round_empty_page_repeat_and_removed(emulator, clock, user):
    mailbox, signed = user
    old = mailbox.add_message(
        "inbox",
        subject="Old fax",
        sender=address("Thao Nguyen", "thao.nguyen@cedar-im.example"),
        to=[address(STAFF, "priya.n@brookside-pt.example")],
        sent=BASE - dt.timedelta(days=1),
        internet_message_id="<g0@cedar-im.example>",
    )
    _first, cursor = read(signed.client(clock), None, ("inbox",))
    g1 = mailbox.add_message(
        "inbox",
        subject="Referral",
        sender=address("Thao Nguyen", "thao.nguyen@cedar-im.example"),
        to=[address(STAFF, "priya.n@brookside-pt.example")],
        sent=BASE,
        internet_message_id="<g1@cedar-im.example>",
    )
    mailbox.add_message(
        "inbox",
        subject="Fax",
        sender=address("Cedar IM Front Desk", "frontdesk@cedar-im.example"),
        to=[address(None, "priya.n@brookside-pt.example")],
        sent=BASE + dt.timedelta(hours=1),
        internet_message_id="<g2@cedar-im.example>",
    )
    mailbox.delete_message(old.id)
    emulator.empty_first_page = True
    emulator.repeat_partial = 1
    batches_before = len(emulator.requests_to("$batch"))

    items, _cursor = read(signed.client(clock), cursor, ("inbox",))

    found = {a.external_id: a for a in activities(items)}
    assert sorted(found) == ["g1@cedar-im.example", "g2@cedar-im.example"]
    assert found["g1@cedar-im.example"].provider_key == g1.id
    assert found["g1@cedar-im.example"].subject == "Referral"
    assert found["g1@cedar-im.example"].occurred_at == BASE
    assert found["g1@cedar-im.example"].addresses(ParticipantRole.FROM) == [
        "thao.nguyen@cedar-im.example"
    ]
    assert found["g2@cedar-im.example"].addresses(ParticipantRole.TO) == [
        "priya.n@brookside-pt.example"
    ]
    assert len(emulator.requests_to("$batch")) == batches_before + 1
    assert removed(items) == [old.id]


def test_delta_link_stored_only_at_round_end(emulator, clock, user):
    mailbox, signed = user
    seed(mailbox, "inbox", 25)

    items, _cursor = read(signed.client(clock, checkpoint_items=10), None, ("inbox",))

    positions = [item.position for item in items if item.position is not None]
    assert len(positions) == 3
    links = [json.loads(p)["folders"]["inbox"]["link"] for p in positions]
    assert "$skiptoken=" in links[0]
    assert "$skiptoken=" in links[1]
    assert "$deltatoken=" in links[2]
    assert items[-1].position == positions[-1]


def test_crash_mid_round_resumes_without_loss(emulator, clock, user):
    mailbox, signed = user
    ids = seed(mailbox, "inbox", 35)
    committed: list[Item] = []
    position = None
    for item in OutlookMailReader(
        signed.client(clock, checkpoint_items=10), folders=["inbox"]
    ).read(None):
        committed.append(item)
        if item.position is not None:
            position = item.position
            if len(committed) >= 20:
                break  # the process dies after the pipeline committed 20 items

    resumed, _cursor = read(signed.client(clock), position, ("inbox",))

    keys = {a.provider_key for a in activities(committed)} | {
        a.provider_key for a in activities(resumed)
    }
    assert keys == set(ids)
    assert len(activities(resumed)) == 15
    assert removed(resumed) == []


def test_stale_next_link_restarts_that_folder_only(emulator, clock, user):
    mailbox, signed = user
    inbox = seed(mailbox, "inbox", 30)
    sent = seed(mailbox, "sentitems", 3, first=100)
    stale_position = None
    for item in OutlookMailReader(
        signed.client(clock, checkpoint_items=10), folders=["sentitems", "inbox"]
    ).read(None):
        state = json.loads(item.position) if item.position else None
        if (
            state
            and "$skiptoken=" in (state["folders"]["inbox"]["link"] or "")
            and stale_position is None
        ):
            stale_position = item.position
    assert stale_position is not None
    start = len(emulator.log)

    items, cursor = read(signed.client(clock), stale_position, ("sentitems", "inbox"))

    requests = [r for r in emulator.log[start:] if r.mailbox == mailbox.user.upn]
    assert any(r.status == 410 and "$skiptoken=" in r.target for r in requests)
    sent_requests = [
        r
        for r in requests
        if "Sent" not in r.target
        and r.target.count("delta")
        and mailbox.folder("sentitems").id in r.target
    ]
    assert sent_requests and all("$deltatoken=" in r.target for r in sent_requests)
    assert {a.provider_key for a in activities(items)} == set(inbox)
    assert len(activities(items)) == len(inbox)
    assert removed(items) == []
    assert MailState.decode(cursor).folders["sentitems"].members == set(sent)


def test_expired_delta_link_lists_folder_again(emulator, clock, user):
    mailbox, signed = user
    inbox = seed(mailbox, "inbox", 12)
    seed(mailbox, "sentitems", 2, first=100)
    _items, cursor = read(signed.client(clock), None)
    mailbox.delete_message(inbox[0])
    mailbox.delete_message(inbox[1])
    new = seed(mailbox, "inbox", 1, first=50)
    expired = emulator.graph.expire_delta_tokens(mailbox, mailbox.folder("inbox").id)
    assert expired == 1
    start = len(emulator.log)

    items, cursor = read(signed.client(clock), cursor)

    gone = [r for r in emulator.log[start:] if r.status == 410]
    assert len(gone) == 1
    assert {a.provider_key for a in activities(items)} == set(inbox[2:]) | set(new)
    assert sorted(removed(items)) == sorted(inbox[:2])
    sent_requests = [
        r for r in emulator.log[start:] if mailbox.folder("sentitems").id in r.target
    ]
    assert all("$deltatoken=" in r.target for r in sent_requests)


def test_throttling_honours_retry_after(emulator, clock, user):
    mailbox, signed = user
    ids = seed(mailbox, "inbox", 25)
    upn = mailbox.user.upn
    emulator.faults.add("throttle", "messages/delta", retry_after=7)
    emulator.faults.add("throttle", "$skiptoken", retry_after=None)
    emulator.repeat_partial = 2
    emulator.faults.add("batch_throttle", "$batch", inner_indexes=(1,), retry_after=5)
    start = len(emulator.log)
    client = signed.client(clock)

    items, _cursor = read(client, None, ("inbox",))

    assert {a.provider_key for a in activities(items)} == set(ids)
    log = [r for r in emulator.log[start:] if r.mailbox in (upn, None)]
    outer = [r for r in log if not r.in_batch]
    first_429 = next(i for i, r in enumerate(outer) if r.status == 429)
    assert outer[first_429 + 1].time - outer[first_429].time >= 7
    second_429 = next(
        i for i, r in enumerate(outer) if r.status == 429 and i > first_429
    )
    assert outer[second_429 + 1].time - outer[second_429].time >= 0.5
    inner = [r for r in log if r.in_batch]
    assert [r.status for r in inner] == [200, 429, 200]
    assert inner[1].target == inner[2].target
    assert inner[2].time - inner[1].time >= 5
    assert emulator.usage[upn].early_requests == 0
    assert client.stats.throttled == 3
    assert client.stats.retry_after_wait >= 12


def test_at_most_four_requests_in_flight(emulator, clock, user):
    mailbox, signed = user
    emulator.latency = 0.05
    errors: list[Exception] = []

    def work() -> None:
        client = signed.client(clock)
        try:
            for _ in range(6):
                client.get(client.url("/mailFolders/inbox", {"$select": "id"}))
        except Exception as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert emulator.max_concurrency(mailbox.user.upn) == 4
    assert emulator.usage[mailbox.user.upn].throttled == 0


def test_message_moved_between_folders_keeps_key(emulator, clock, user):
    mailbox, signed = user
    [message_id] = seed(mailbox, "inbox", 1)
    _items, cursor = read(signed.client(clock), None)
    mailbox.move_message(message_id, "sentitems")

    items, _cursor = read(signed.client(clock), cursor)

    [moved] = activities(items)
    assert moved.provider_key == message_id
    assert Flag.SENT in moved.flags
    assert moved.labels == ("Sent Items",)
    assert removed(items) == []


def test_message_moved_out_of_synced_folders_removed(emulator, clock, user):
    mailbox, signed = user
    [message_id] = seed(mailbox, "inbox", 1)
    _items, cursor = read(signed.client(clock), None)
    mailbox.move_message(message_id, "archive")

    items, _cursor = read(signed.client(clock), cursor)

    assert removed(items) == [message_id]


def test_mutable_ids_change_without_prefer(emulator, clock, user):
    mailbox, signed = user
    [message_id] = seed(mailbox, "inbox", 1)
    token = signed.tokens().access_token()
    context = ssl.create_default_context(cafile=str(emulator.ca_file))
    url = f"{emulator.graph_url}/me/messages/{message_id}?$select=id"

    with httpx.Client(
        verify=context, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        before = http.get(url).json()["id"]
        mailbox.move_message(message_id, "archive")
        after = http.get(url).json()["id"]
        immutable = http.get(url, headers={"Prefer": 'IdType="ImmutableId"'}).json()[
            "id"
        ]

    assert before != after
    assert immutable == message_id


def test_faults_neither_lose_nor_duplicate(emulator, clock, user):
    mailbox, signed = user
    inbox = seed(mailbox, "inbox", 40)
    sent = seed(mailbox, "sentitems", 5, first=100)
    emulator.faults.add("unavailable", "messages/delta", retry_after=2)
    emulator.faults.add("drop", "$skiptoken")
    emulator.faults.add("drop_after", "$skiptoken")
    emulator.faults.add("expired_token", "$skiptoken")
    client = signed.client(clock)

    items, cursor = read(client, None)

    keys = [a.provider_key for a in activities(items)]
    assert sorted(keys) == sorted(inbox + sent)
    assert emulator.faults.unused() == []
    assert client.stats.retries >= 3
    again, _cursor = read(signed.client(clock), cursor)
    assert again == []


def test_sync_state_not_found_restarts_round(emulator, clock, user):
    mailbox, signed = user
    inbox = seed(mailbox, "inbox", 25)
    emulator.faults.add("sync_state_not_found", "$skiptoken")

    items, _cursor = read(signed.client(clock), None, ("inbox",))

    assert {a.provider_key for a in activities(items)} == set(inbox)
    assert removed(items) == []


def test_incremental_sync_costs_one_request_per_folder(emulator, clock, user):
    mailbox, signed = user
    seed(mailbox, "inbox", 15)
    seed(mailbox, "sentitems", 5, first=100)
    _items, cursor = read(signed.client(clock), None)
    start = len(emulator.log)

    items, _cursor = read(signed.client(clock), cursor)

    requests = [r for r in emulator.log[start:] if r.mailbox == mailbox.user.upn]
    assert items == []
    assert len(requests) == 2


def test_named_folder_found_by_display_name(emulator, clock, user):
    mailbox, signed = user
    folder = mailbox.add_folder("Referrals")
    [message_id] = seed(mailbox, folder.id, 1)

    items, _cursor = read(signed.client(clock), None, ("inbox", "referrals"))

    [activity] = activities(items)
    assert activity.provider_key == message_id
    assert activity.labels == ("Referrals",)


def test_message_without_addresses_quarantined(emulator, clock, user):
    mailbox, signed = user
    mailbox.add_message(
        "inbox",
        subject="Broken",
        sender=address("Front Desk", "Front Desk"),
        to=[],
        sent=BASE,
        internet_message_id=None,
    )

    items, _cursor = read(signed.client(clock), None, ("inbox",))

    [item] = items
    assert item.reason.startswith("no valid address")


def test_graph_documentation_message():
    [message, _headers, _text] = json.loads(
        (DATA / "graph_docs__message_get.json").read_text()
    )

    activity = message_item(message, "Inbox", sent=False)

    assert isinstance(activity, Activity)
    assert activity.external_id == "MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com"
    assert activity.occurred_at == dt.datetime(2018, 9, 9, 3, 15, 6, tzinfo=dt.UTC)
    assert activity.addresses(ParticipantRole.FROM) == [
        "adelev@contoso.onmicrosoft.com"
    ]
    assert activity.addresses(ParticipantRole.SENDER) == []
    assert activity.addresses(ParticipantRole.TO) == ["alexw@contoso.onmicrosoft.com"]
    assert activity.participants[0].name == "Adele Vance"
    assert activity.thread_id == "AAQkADOUpag6yWs="


def test_graph_documentation_meeting_request_message():
    [request, _event] = json.loads(
        (DATA / "graph_docs__eventmessage_get.json").read_text()
    )

    activity = message_item(request, "Sent Items", sent=True)

    assert isinstance(activity, Activity)
    assert Flag.SENT in activity.flags
    assert (
        activity.external_id
        == "MWHPR1301MB2110DCFC@MWHPR1301MB2110.namprd13.prod.outlook.com"
    )
    assert activity.addresses(ParticipantRole.TO) == ["alexw@contoso.onmicrosoft.com"]
