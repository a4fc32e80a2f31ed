"""The secret iCalendar feed of a staff member's open follow-ups.

`GET /feeds/<token>.ics` needs no sign-in, because calendar apps cannot
sign in: the token in the URL is the credential.  Unknown tokens get a bare
404, and no response may be cached, so a rotated token stops working at
once (see warmline.remind.feed).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from warmline.remind.feed import feed_calendar, find_feed
from web.auth import Db, web_state

router = APIRouter()

NO_STORE = {"cache-control": "no-store"}


@router.get("/feeds/{token}.ics", include_in_schema=False)
def follow_up_feed(token: str, request: Request, db: Db) -> Response:
    """Serve the feed whose token is `token` as text/calendar."""
    feed = find_feed(db, token)
    if feed is None:
        return Response(
            "feed not found\n", 404, headers=NO_STORE, media_type="text/plain"
        )
    body = feed_calendar(db, feed, web_state(request).config.clock())
    return Response(
        body,
        headers={
            **NO_STORE,
            "content-disposition": 'inline; filename="follow-ups.ics"',
        },
        media_type="text/calendar; charset=utf-8",
    )
