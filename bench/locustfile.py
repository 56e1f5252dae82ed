"""Mixed national use of the service, for Locust (run by ``bench/mixed.py``).

The people and the things they hold (accounts, tokens, ids) come from the JSON file
named by ``MIXED_FIXTURE``, written by ``bench/mixed.py`` for the loaded database.
Staff think for 5 to 15 seconds between pages (10 on average); feed subscribers
refresh on a fixed pace that ``MIXED_FEED_PACE`` sets, so that a few simulated
calendars stand for thousands refreshing hourly.
"""

from __future__ import annotations

import json
import os
import random
import re

from locust import HttpUser, between, constant_pacing, task

FIXTURE = json.loads(open(os.environ["MIXED_FIXTURE"]).read())
# Each account's session cookies, signed in by ``bench/mixed.py`` before the step.
SESSIONS = (json.loads(open(os.environ["MIXED_SESSIONS"]).read())
            if os.environ.get("MIXED_SESSIONS") else {})
FEED_PACE = float(os.environ.get("MIXED_FEED_PACE", "36"))
SCALE = float(os.environ.get("MIXED_SCALE", "1"))


def _count(at_design_rate: int) -> int:
    return max(1, round(at_design_rate * SCALE))

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'name="csrf_token" value="([^"]+)"')
# Shared by every simulated user of this process: each fresh enrolment is booked or
# planned once, each overdue booking's attendance recorded once.
TO_BOOK = list(FIXTURE["book"]["enrolments"])
TO_BOOK_API = list(FIXTURE["book_api"]["enrolments"])
TO_PLAN = list(FIXTURE["plan"])
TO_RECORD = list(FIXTURE["overdue_bookings"])


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    return (found.group(1) or found.group(2)) if found else ""


class _Staff(HttpUser):
    abstract = True
    wait_time = between(5, 15)
    accounts: list = []

    def on_start(self) -> None:
        email, password = random.choice(self.accounts)
        # Staff sign in once a working day, not once per simulated minute: the run
        # starts from the cookies of sessions signed in before the clock started, so
        # argon2's deliberate cost is not paid 500 times in the first 20 seconds.
        signed_in = SESSIONS.get(email)
        if signed_in:
            for cookie in signed_in:
                self.client.cookies.set(cookie["name"], cookie["value"],
                                        domain=cookie["domain"], path=cookie["path"])
            return
        page = self.client.get("/login", name="sign in (form)")
        self.client.post("/login", name="sign in", data={
            "email": email, "password": password, "csrf_token": _csrf(page.text)})

    def _form_token(self, path: str, name: str) -> str:
        return _csrf(self.client.get(path, name=name).text)


class Coordinator(_Staff):
    fixed_count = _count(200)
    accounts = FIXTURE["coordinators"]

    @task(3)
    def week(self) -> None:
        self.client.get("/coordinator/sessions", name="coordinator: week view")

    @task(3)
    def register(self) -> None:
        self.client.get(f"/coordinator/sessions/{random.choice(FIXTURE['sessions'])}",
                        name="coordinator: session register")

    @task(3)
    def participant(self) -> None:
        self.client.get(f"/coordinator/participants/{random.choice(FIXTURE['enrolments'])}",
                        name="coordinator: participant page")

    @task(1)
    def participants(self) -> None:
        self.client.get("/coordinator/participants", name="coordinator: participants")

    @task(1)
    def book(self) -> None:
        if not TO_BOOK:
            return
        enrolment = TO_BOOK.pop()
        path = f"/coordinator/participants/{enrolment}"
        token = self._form_token(path, "coordinator: participant page")
        self.client.post(f"{path}/book", name="coordinator: book", data={
            "session_id": random.choice(FIXTURE["book"]["sessions"]), "csrf_token": token})

    @task(1)
    def plan(self) -> None:
        if not TO_PLAN:
            return
        enrolment = TO_PLAN.pop()
        path = f"/coordinator/participants/{enrolment}"
        token = self._form_token(path, "coordinator: participant page")
        self.client.post(f"{path}/plan", name="coordinator: plan", data={"csrf_token": token})

    @task(1)
    def attendance(self) -> None:
        if not TO_RECORD:
            return
        booking = TO_RECORD.pop()
        self.client.put(f"/api/v1/bookings/{booking}/attendance", name="coordinator: attendance",
                        json={"outcome": "attended"},
                        headers={"Authorization": f"Bearer {FIXTURE['coordinator_token']}"})


class CaseOfficer(_Staff):
    fixed_count = _count(250)

    def on_start(self) -> None:
        self.force = random.choice(FIXTURE["forces"])
        self.accounts = [self.force["officer"]]
        super().on_start()

    @task(2)
    def enrolments(self) -> None:
        self.client.get("/cases/enrolments", name="case officer: enrolments")

    @task(2)
    def filtered(self) -> None:
        query = random.choice(["status=enrolled", "flag=at_risk", "status=awaiting_follow_up",
                               "flag=non_completion", "status=completed"])
        self.client.get(f"/cases/enrolments?{query}", name="case officer: enrolments filtered")

    @task(1)
    def dashboard(self) -> None:
        self.client.get("/cases/dashboard", name="case officer: flags (dashboard)")

    @task(3)
    def enrolment(self) -> None:
        self.client.get(f"/cases/enrolments/{random.choice(self.force['enrolments'])}",
                        name="case officer: enrolment page")

    @task(1)
    def referral_summary(self) -> None:
        self.client.get(
            f"/cases/enrolments/{random.choice(self.force['flagged'])}/referral-summary",
            name="case officer: referral summary")


class ApiClient(HttpUser):
    fixed_count = _count(50)
    wait_time = between(5, 15)

    def on_start(self) -> None:
        force = random.choice(FIXTURE["forces"])
        self.enrolments = force["enrolments"]
        self.officer = {"Authorization": f"Bearer {force['officer_token']}"}
        self.coordinator = {"Authorization": f"Bearer {FIXTURE['coordinator_token']}"}

    @task(3)
    def enrolments_list(self) -> None:
        self.client.get("/api/v1/enrolments?status=enrolled", headers=self.officer,
                        name="api: GET /enrolments")

    @task(2)
    def flags(self) -> None:
        self.client.get("/api/v1/flags", headers=self.officer, name="api: GET /flags")

    @task(3)
    def enrolment(self) -> None:
        self.client.get(f"/api/v1/enrolments/{random.choice(self.enrolments)}",
                        headers=self.officer, name="api: GET /enrolments/{id}")

    @task(1)
    def sessions(self) -> None:
        self.client.get("/api/v1/sessions?module=1", headers=self.coordinator,
                        name="api: GET /sessions")

    @task(1)
    def book(self) -> None:
        if not TO_BOOK_API:
            return
        enrolment = TO_BOOK_API.pop()
        with self.client.post(
                f"/api/v1/enrolments/{enrolment}/bookings", headers=self.coordinator,
                json={"session_id": random.choice(FIXTURE["book_api"]["sessions"])},
                name="api: POST /bookings", catch_response=True) as response:
            # A full session is the rule working, not an error.
            if response.status_code == 409:
                response.success()


class FeedSubscriber(HttpUser):
    """One simulated calendar stands for FEED_PACE/3600 of the real ones."""

    # Feed refreshes do not grow with the staff: 5,000 calendars an hour at any scale.
    fixed_count = int(os.environ.get("MIXED_FEED_USERS", "50"))
    wait_time = constant_pacing(FEED_PACE)

    @task
    def feed(self) -> None:
        self.client.get(f"/calendar/{random.choice(FIXTURE['feeds'])}.ics",
                        name="participant: calendar feed")
