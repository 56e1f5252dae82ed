"""Text messages through GOV.UK Notify: build one from an outbox row, and hand it over.

Notify is given one template whose body is ``((message))``; the words are ours, from
``templates/emails/sms/<kind>.txt``, held to the same privacy rule as email. Each
message carries its outbox row's id as Notify's ``reference``. Notify does not refuse a
second message with the same reference, so before sending a row that was tried before
(a time-out or a crash may have come after Notify accepted it) we ask Notify for that
reference first, and record what it already has instead of sending again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from jinja2 import TemplateNotFound
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from diversion.domain.contact import language_of, may_text
from diversion.domain.vocabulary import MessageKind
from diversion.notify.messages import (
    appointment_context,
    missed_notice_context,
    refuse_disclosure,
    render,
)

NOTIFY_BASE_URL = "https://api.notifications.service.gov.uk"
# Notify refuses a text message longer than this many characters.
MAX_TEXT_LENGTH = 918
# The one status of Notify's that says this message can never go as it stands.
BAD_REQUEST = 400


@dataclass(frozen=True)
class NotifySettings:
    api_key: str
    template_id: str
    base_url: str
    timeout: float


@dataclass(frozen=True)
class Text:
    """One text message, ready for Notify."""

    recipient: str
    body: str
    reference: str
    # An earlier attempt may have reached Notify: ask for the reference before sending.
    look_first: bool


class NotifyError(Exception):
    """Notify did not take the message: ``permanent`` when asking again cannot help."""

    def __init__(self, description: str, *, permanent: bool) -> None:
        super().__init__(description)
        self.description = description
        self.permanent = permanent


def notify_settings(config) -> NotifySettings | None:
    """Read and check the GOV.UK Notify settings; None when text messages are off.

    Raises ValueError, saying which setting, when they cannot work.
    """
    key = (config.get("NOTIFY_API_KEY") or "").strip()
    if not key:
        return None
    # A key is "name-{service id}-{secret}": the client signs with the last two parts.
    if key[-37:-36] != "-" or not (_is_uuid(key[-73:-37]) and _is_uuid(key[-36:])):
        raise ValueError("NOTIFY_API_KEY is not a GOV.UK Notify API key")
    template_id = (config.get("NOTIFY_SMS_TEMPLATE_ID") or "").strip()
    if not _is_uuid(template_id):
        raise ValueError("NOTIFY_SMS_TEMPLATE_ID is not set to a template's id")
    base_url = (config.get("NOTIFY_BASE_URL") or NOTIFY_BASE_URL).strip()
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("NOTIFY_BASE_URL is not an http(s) address")
    try:
        timeout = float(config.get("NOTIFY_TIMEOUT_SECONDS") or 30)
    except (TypeError, ValueError):
        raise ValueError("NOTIFY_TIMEOUT_SECONDS is not a number") from None
    if not timeout > 0:
        raise ValueError("NOTIFY_TIMEOUT_SECONDS must be more than 0")
    return NotifySettings(api_key=key, template_id=template_id, base_url=base_url,
                          timeout=timeout)


def build_text(kind: str, recipient: str, payload: dict) -> str:
    """Write the text message for one outbox row, or raise ValueError if it cannot go."""
    if not may_text(recipient, True):
        raise ValueError("a text message needs a UK mobile number")
    try:
        language = language_of(payload.get("language"))
        context = (missed_notice_context(payload, language)[1]
                   if kind == MessageKind.MISSED_NOTICE
                   else appointment_context(payload, language))
        body = render(f"sms/{kind}.txt", context, language)
    except TemplateNotFound:
        raise ValueError(f"no text message is written for {kind!r}") from None
    # One paragraph: a text shows no layout, and every character counts.
    body = " ".join(body.split())
    link = context.get("link")
    refuse_disclosure("text message", body.replace(link, "") if link else body)
    if not body or len(body) > MAX_TEXT_LENGTH:
        raise ValueError(f"a text message must be 1 to {MAX_TEXT_LENGTH} characters")
    return body


class Notify:
    """A GOV.UK Notify client for one batch of text messages."""

    def __init__(self, settings: NotifySettings) -> None:
        self.template_id = settings.template_id
        self.client = NotificationsAPIClient(settings.api_key, base_url=settings.base_url,
                                             timeout=settings.timeout)

    def send(self, text: Text) -> str:
        """Hand one message to Notify (once) and return Notify's id for it."""
        try:
            if text.look_first:
                already = self._sent_before(text.reference)
                if already is not None:
                    return already
            response = self.client.send_sms_notification(
                phone_number=text.recipient, template_id=self.template_id,
                personalisation={"message": text.body}, reference=text.reference)
        except APIError as error:
            raise NotifyError(describe(error),
                              permanent=error.status_code == BAD_REQUEST) from error
        notify_id = response.get("id") if isinstance(response, dict) else None
        if not isinstance(notify_id, str) or not _is_uuid(notify_id):
            # Accepted, but unreadable: the next attempt finds it by its reference.
            raise NotifyError("GOV.UK Notify accepted the message without an id",
                              permanent=False)
        return notify_id

    def _sent_before(self, reference: str) -> str | None:
        found = self.client.get_all_notifications(template_type="sms", reference=reference)
        for notification in (found or {}).get("notifications", []):
            if notification.get("reference") == reference and _is_uuid(notification.get("id")):
                return notification["id"]
        return None


def describe(error: APIError) -> str:
    """Say why Notify did not take a message: its status and its own words, never the key."""
    message = error.message
    if isinstance(message, list):
        message = "; ".join(str(item.get("message", item)) if isinstance(item, dict)
                            else str(item) for item in message)
    if error.response is None and error.__cause__ is not None:
        # No answer at all (a time-out, a refused connection): say which.
        message = f"{type(error.__cause__).__name__}: {message}"
    return f"GOV.UK Notify {error.status_code}: {message}"[:500]


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
