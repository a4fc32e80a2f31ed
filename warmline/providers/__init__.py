"""Core glue for connectors that talk to a provider's API: readers and sign-in."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from warmline.models import Workspace
from warmline.workspaces import workspace_settings


@dataclasses.dataclass(frozen=True)
class GrantPurposes:
    """The access a Google or Microsoft grant needs beyond reading mail and events.

    The command line and the site's connect flows both derive their scopes
    from one of these, so that the grant matches what the workspace does.
    """

    place_follow_ups: bool
    send_digests: bool


def grant_purposes(
    session: Session,
    workspace: Workspace,
    environment_places: bool,
    *,
    place_follow_ups: bool | None = None,
    send_digests: bool | None = None,
) -> GrantPurposes:
    """Return the purposes a new grant needs, from the workspace's settings.

    Follow-up events need write access when the `place_follow_ups` setting
    or the provider's environment flag (`environment_places`) turns them on.
    Sending needs the send scope when `digest_transport` is "connector".
    An explicit `place_follow_ups` or `send_digests` wins over the settings.
    """
    values = workspace_settings(session, workspace)
    if place_follow_ups is None:
        place_follow_ups = environment_places or bool(values["place_follow_ups"])
    if send_digests is None:
        send_digests = values["digest_transport"] == "connector"
    return GrantPurposes(place_follow_ups, send_digests)


def register_all() -> None:
    """Register every provider's readers, IMAP token sources and token revokers.

    Each process that syncs or purges accounts (the command line, the
    workers and the site) calls this once at start.  Registering twice
    replaces the entries with equal ones.
    """
    from warmline.providers import google, imap_oauth, microsoft

    google.register_readers()
    microsoft.register_readers()
    imap_oauth.register_token_sources()
