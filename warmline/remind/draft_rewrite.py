"""Optional rewrite of a template draft by a language model.

The model is reached with httpx through an OpenAI-compatible chat
completions endpoint: POST {draft_llm_base_url}/chat/completions with the
model and the messages, and the text back in choices[0].message.content.
It is off while draft_llm_base_url is empty, and then nothing leaves the
machine.  The prompt is the template draft and fixed instructions; the
draft holds only names of the source and staff members, dates and counts
(see warmline.remind.drafts), never a patient detail or anything read
from a message.  When the rewrite fails, the template draft is kept and
the failure is reported beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx
import structlog
from sqlalchemy.orm import Session

from warmline.models import Workspace
from warmline.remind.drafts import Draft, draft_facts, template_draft
from warmline.remind.errors import ReminderError
from warmline.secrets import SecretBox
from warmline.workspace_secrets import read_secret, write_secret
from warmline.workspaces import workspace_settings

log = structlog.get_logger(__name__)

API_KEY_SECRET = "draft_llm_api_key"
MAX_REWRITE_CHARS = 4000
"""Maximum length of an accepted rewrite; a longer reply is not a short email."""

INSTRUCTIONS = (
    "You edit short outreach emails from a physical therapy practice to a "
    "referring physician's office. Rewrite the email below so that it reads "
    "warm, personal and brief. Keep the greeting, the signature, every name, "
    "date and number, and any text in square brackets exactly as written. "
    "Add no facts, no patient information and no subject line. Reply with the "
    "email text only."
)


@dataclasses.dataclass(frozen=True)
class RewriteConfig:
    """An OpenAI-compatible chat completions endpoint that rewrites drafts."""

    base_url: str
    model: str
    api_key: str | None
    timeout: float

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


def rewrite_config(
    settings: Mapping[str, Any], api_key: str | None
) -> RewriteConfig | None:
    """Return the rewrite endpoint, or None when the rewrite is off."""
    if not settings["draft_llm_base_url"]:
        return None
    if not settings["draft_llm_model"]:
        raise ReminderError(
            "draft_llm_model is not set; run 'warmline config set draft_llm_model "
            "NAME', or turn the rewrite off with 'warmline config set "
            'draft_llm_base_url ""\''
        )
    return RewriteConfig(
        base_url=settings["draft_llm_base_url"],
        model=settings["draft_llm_model"],
        api_key=api_key,
        timeout=settings["draft_llm_timeout_seconds"],
    )


def rewrite_request(draft: Draft, model: str) -> dict[str, Any]:
    """Return the JSON body sent to the endpoint: the whole prompt."""
    return {
        "model": model,
        "temperature": 0.4,
        "messages": [
            {"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": draft.body},
        ],
    }


def rewrite_draft(
    draft: Draft, config: RewriteConfig, client: httpx.Client | None = None
) -> Draft:
    """Return `draft` with its body rewritten, or with a notice why it was not."""
    headers = {"authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    own_client = client is None
    client = client or httpx.Client(timeout=config.timeout)
    try:
        response = client.post(
            config.url, json=rewrite_request(draft, config.model), headers=headers
        )
        response.raise_for_status()
        text = _reply_text(response.json())
    except (httpx.HTTPError, ValueError) as error:
        reason = _failure(error)
        log.warning("draft rewrite failed", url=config.url, error=reason)
        return dataclasses.replace(
            draft,
            notice=f"rewrite by {config.model} failed ({reason}); "
            "showing the draft from templates",
        )
    finally:
        if own_client:
            client.close()
    return dataclasses.replace(
        draft, body=text.strip() + "\n", rewritten_by=config.model
    )


def _reply_text(payload: Any) -> str:
    try:
        text = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("the reply has no choices[0].message.content") from None
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the reply's text is empty")
    if len(text) > MAX_REWRITE_CHARS:
        raise ValueError(f"the reply is longer than {MAX_REWRITE_CHARS} characters")
    return text


def _failure(error: Exception) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.HTTPError):
        return f"request failed: {type(error).__name__}"
    return str(error)


def stored_api_key(
    session: Session, workspace: Workspace, box: SecretBox
) -> str | None:
    """Return the decrypted API key of the rewrite endpoint, or None."""
    return read_secret(session, workspace, box, API_KEY_SECRET)


def store_api_key(
    session: Session, workspace: Workspace, box: SecretBox, api_key: str
) -> None:
    """Store the rewrite endpoint's API key encrypted with the secret keys."""
    write_secret(session, workspace, box, API_KEY_SECRET, api_key)


def prepare_draft(
    session: Session,
    workspace: Workspace,
    follow_up_id: int,
    as_of: dt.datetime,
    api_key: str | None,
) -> tuple[Draft, RewriteConfig | None]:
    """Build a follow-up's template draft and return the rewrite endpoint, if any.

    The rewrite itself is left to the caller (`rewrite_draft`), so that no
    database transaction stays open while the model writes.
    """
    facts, address = draft_facts(session, workspace, follow_up_id, as_of)
    config = rewrite_config(workspace_settings(session, workspace), api_key)
    return template_draft(facts, address), config
