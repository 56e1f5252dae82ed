"""A small GOV.UK Notify on loopback: the parts of its API notifications-python-client uses.

It checks each request's bearer token as Notify does (the JWT's issuer is the service
id, signed with the API key's secret, issued within the last 30 seconds), takes text
messages (``POST /v2/notifications/sms``), and answers ``GET /v2/notifications`` (by
reference) and ``GET /v2/notifications/{id}``. A test can script the next answers:
a status code to refuse with, or "accept_slowly" to take the message and answer only
after the client has given up waiting.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import TokenError

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"diversion_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
SLOW_SECONDS = 2.0

ERRORS = {
    400: ("BadRequestError", "phone_number Not a UK mobile number"),
    403: ("AuthError", "Invalid token: API key not found"),
    429: ("RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 "
                            "seconds"),
    500: ("Exception", "Internal server error"),
    503: ("Exception", "Service unavailable"),
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeNotify:
    """What the fake has been sent, and what it will answer next."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.notifications: list[dict] = []  # every text message it accepted, in order
        self.requests: list[tuple[str, str]] = []  # (method, path) of each authorised call
        self.refused_tokens = 0
        self.answers: list[int | str] = []  # scripted answers for the next POSTs
        self.delay = 0.0  # seconds to wait before taking each message
        self.url = ""

    @property
    def posts(self) -> int:
        return sum(1 for method, _ in self.requests if method == "POST")

    def receipt(self, notification: dict, status: str = "delivered") -> dict:
        """Notify's delivery-status callback body for one of the messages it took."""
        return {
            "id": notification["id"], "reference": notification["reference"],
            "to": notification["phone_number"], "status": status,
            "created_at": notification["created_at"], "completed_at": _now(),
            "sent_at": notification["created_at"], "notification_type": "sms",
            "template_id": TEMPLATE_ID, "template_version": 1,
        }

    # ---- what the handler calls --------------------------------------------------------

    def take(self, body: dict) -> tuple[int, dict, float]:
        with self.lock:
            answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, int):
            error, message = ERRORS[answer]
            return answer, {"status_code": answer,
                            "errors": [{"error": error, "message": message}]}, 0.0
        problem = self._invalid(body)
        if problem:
            return 400, {"status_code": 400,
                         "errors": [{"error": "BadRequestError", "message": problem}]}, 0.0
        if self.delay:
            time.sleep(self.delay)
        notification = {
            "id": str(uuid.uuid4()), "reference": body.get("reference"),
            "phone_number": body["phone_number"], "type": "sms", "status": "sending",
            "template": {"id": TEMPLATE_ID, "version": 1,
                         "uri": f"{self.url}/v2/template/{TEMPLATE_ID}"},
            "body": body["personalisation"]["message"], "created_at": _now(),
            "sent_at": None, "completed_at": None,
        }
        with self.lock:
            self.notifications.append(notification)
        response = {
            "id": notification["id"], "reference": notification["reference"],
            "content": {"body": notification["body"], "from_number": "GOVUK"},
            "uri": f"{self.url}/v2/notifications/{notification['id']}",
            "template": notification["template"],
        }
        return 201, response, SLOW_SECONDS if answer == "accept_slowly" else 0.0

    def _invalid(self, body: dict) -> str | None:
        if not isinstance(body, dict):
            return "Invalid JSON"
        if body.get("template_id") != TEMPLATE_ID:
            return "Template not found"
        number = str(body.get("phone_number", ""))
        if not (number.startswith("+447") and len(number) == 13):
            return "phone_number Not a UK mobile number"
        personalisation = body.get("personalisation") or {}
        if not isinstance(personalisation.get("message"), str):
            return "Missing personalisation: message"
        return None

    def find(self, *, reference: str | None = None, notify_id: str | None = None) -> list[dict]:
        with self.lock:
            return [n for n in self.notifications
                    if (reference is None or n["reference"] == reference)
                    and (notify_id is None or n["id"] == notify_id)]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args) -> None:  # keep the test output quiet
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (the time-out test): as Notify would see it

    def _authorised(self) -> bool:
        fake = self.server.fake
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        try:
            if scheme != "Bearer" or get_token_issuer(token) != SERVICE_ID:
                raise TokenError("Invalid token: service id")
            decode_jwt_token(token, SECRET)
        except TokenError as error:
            with fake.lock:
                fake.refused_tokens += 1
            self._answer(403, {"status_code": 403,
                               "errors": [{"error": "AuthError", "message": error.message}]})
            return False
        return True

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self._authorised():
            return
        path = urlsplit(self.path).path
        with fake.lock:
            fake.requests.append(("POST", path))
        if path != "/v2/notifications/sms":
            self._answer(404, {"status_code": 404, "errors": [
                {"error": "NotFound", "message": "Not found"}]})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        status, response, wait = fake.take(body)
        if wait:
            time.sleep(wait)  # the message is taken; the answer comes too late
        self._answer(status, response)

    def do_GET(self) -> None:
        fake = self.server.fake
        if not self._authorised():
            return
        parts = urlsplit(self.path)
        with fake.lock:
            fake.requests.append(("GET", parts.path))
        if parts.path == "/v2/notifications":
            query = parse_qs(parts.query)
            reference = query.get("reference", [None])[0]
            self._answer(200, {"notifications": fake.find(reference=reference),
                               "links": {"current": f"{fake.url}{self.path}"}})
            return
        if parts.path.startswith("/v2/notifications/"):
            found = fake.find(notify_id=parts.path.rsplit("/", 1)[1])
            if found:
                self._answer(200, found[0])
                return
        self._answer(404, {"status_code": 404, "errors": [
            {"error": "NoResultFound", "message": "No result found"}]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeNotify


def start() -> tuple[FakeNotify, _Server]:
    """Start a fake Notify on a free loopback port."""
    fake = FakeNotify()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
