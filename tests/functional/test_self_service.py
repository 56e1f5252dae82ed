"""The participant's own appointment link: seeing it, moving it, asking to be called.

The world: on Monday 4 January 2027 at 9am, Sam is booked into module 1 on Tuesday 5
January at 6pm (session A) and module 2 on Tuesday 12 January. Module 1 is also held on
Monday 4 January at 6pm (session C, which every rule allows) and on Wednesday 6 January
(session B, six days before module 2: too close, the spacing rule says no).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from diversion import clock, create_app
from diversion.domain.privacy import disclosing_words
from diversion.extensions import db
from diversion.models import AuditEvent, CallbackRequest, OutboxMessage
from tests.conftest import BASE_CONFIG, csrf_from, enrol_case
from tests.functional.test_case_officer_enrolment_pages import text_of

MONDAY = "2027-01-04T09:00:00+00:00"
JSON = {"Accept": "application/json"}
PRODUCT = re.compile(r"diversion", re.IGNORECASE)


class World:
    def __init__(self, app, client, api_as):
        clock.set_now(MONDAY)
        self.app, self.client = app, client
        self.officer = api_as("case_officer")
        self.coordinator = api_as("coordinator", force=None)
        venue = self.coordinator.post("/venues", {"name": "Civic Centre",
                                                  "address": "1 High Street"}).get_json()
        self.venue_id = venue["id"]
        self.a = self.publish(1, "2027-01-05T18:00:00")
        self.b = self.publish(1, "2027-01-06T18:00:00")
        self.c = self.publish(1, "2027-01-04T18:00:00")
        self.d = self.publish(2, "2027-01-12T18:00:00")
        self.enrolment = enrol_case(self.officer)["id"]
        self.booking = self.book(self.a)
        self.module_2 = self.book(self.d)

    def publish(self, module: int, starts_at: str, capacity: int = 10) -> int:
        response = self.coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": self.venue_id, "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def book(self, session_id: int, enrolment: int | None = None) -> int:
        response = self.coordinator.post(f"/enrolments/{enrolment or self.enrolment}/bookings",
                                         {"session_id": session_id})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def messages(self, booking_id: int | None = None) -> list[OutboxMessage]:
        with self.app.app_context():
            query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
            if booking_id is not None:
                query = query.where(OutboxMessage.booking_id == booking_id)
            rows = list(db.session.scalars(query))
            db.session.remove()
        return rows

    def link(self, booking_id: int | None = None) -> str:
        """The path of the link in the latest message that carries one for the booking."""
        carrying = [m for m in self.messages(booking_id or self.booking)
                    if "link" in m.payload]
        return "/" + carrying[-1].payload["link"].split("/", 3)[3]

    def audit(self, **where) -> list[AuditEvent]:
        with self.app.app_context():
            rows = list(db.session.scalars(
                sa.select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)))
            db.session.remove()
        return rows

    def page_form(self, path: str) -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))


@pytest.fixture
def world(app, client, api_as) -> World:
    return World(app, client, api_as)


# ---- the link in every message ----------------------------------------------------

def test_the_invitation_and_reminder_carry_the_link_and_the_cancellation_does_not(world):
    invitation, reminder = world.messages(world.booking)
    assert (invitation.kind, reminder.kind) == ("invitation", "reminder")
    assert invitation.payload["link"] == reminder.payload["link"]
    assert invitation.payload["link"].startswith("http://localhost/appointments/")

    world.coordinator.delete(f"/bookings/{world.booking}")
    cancellation = world.messages(world.booking)[-1]
    assert cancellation.kind == "cancellation"
    assert "link" not in cancellation.payload


def test_a_moved_session_sends_an_update_with_a_new_link_and_the_old_one_stops(world):
    old = world.link()
    moved = world.coordinator.patch(f"/sessions/{world.a}", {"starts_at": "2027-01-05T19:00:00"})
    assert moved.status_code == 200, moved.get_json()

    update = [m for m in world.messages(world.booking) if m.kind == "update"][-1]
    new = world.link()
    assert new == "/" + update.payload["link"].split("/", 3)[3]
    assert new != old
    assert world.client.get(old).status_code == 404
    assert world.client.get(new, headers=JSON).get_json()["starts_at"] == (
        "2027-01-05T19:00:00+00:00")


# ---- seeing the appointment -------------------------------------------------------

def test_the_page_shows_the_appointment_and_only_the_sessions_every_rule_allows(world):
    page = world.client.get(world.link())

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="en"' in html
    assert "Tuesday 5 January 2027" in html and "6pm to 7:30pm" in html
    assert "Civic Centre, 1 High Street" in html
    assert "Monday 4 January 2027, 6pm to 7:30pm" in html, "session C fits"
    assert "Wednesday 6 January 2027" not in html, "session B breaks the spacing rule"
    assert not PRODUCT.search(html)
    assert "Sign out" not in html
    assert page.headers["Cache-Control"] == "no-store"


def test_json_gives_the_appointment_with_the_alternatives_every_rule_allows(world):
    response = world.client.get(world.link(), headers=JSON)

    assert response.status_code == 200
    body = response.get_json()
    assert body["starts_at"] == "2027-01-05T18:00:00+00:00"
    assert body["ends_at"] == "2027-01-05T19:30:00+00:00"
    assert body["location"] == "Civic Centre, 1 High Street"
    assert body["can_move"] is True
    assert body["moves_left"] == 2
    assert body["alternatives"] == [{
        "session_id": world.c, "starts_at": "2027-01-04T18:00:00+00:00",
        "ends_at": "2027-01-04T19:30:00+00:00", "location": "Civic Centre, 1 High Street"}]
    assert body["callback_requested"] is False


def test_the_alternatives_are_those_the_coordinators_page_offers(world, login_as):
    # The coordinator's participant page offers the next module's sessions through the
    # same service: with module 1 cancelled, exactly session C of module 1 would fit
    # there too once its booking is out of the way, and B would not.
    alternatives = world.client.get(world.link(), headers=JSON).get_json()["alternatives"]
    world.coordinator.delete(f"/bookings/{world.booking}")
    login_as("coordinator", force=None, email="desk@example.gov.uk")
    page = world.client.get(f"/coordinator/participants/{world.enrolment}?all=1")
    offered = set(map(int, re.findall(r'name="session_id" value="(\d+)"',
                                      page.get_data(as_text=True))))
    # Session A is free again for the coordinator; the participant was never offered it,
    # as it was their own appointment.
    assert offered - {world.a} == {a["session_id"] for a in alternatives}


def test_a_welsh_participants_page_is_marked_as_welsh(world, app):
    with app.app_context():
        from diversion.models import Case

        db.session.execute(sa.update(Case).values(language="cy"))
        db.session.commit()
        db.session.remove()
    assert '<html lang="cy"' in world.client.get(world.link()).get_data(as_text=True)


def test_every_view_is_audited_as_the_participant_and_never_with_the_token(world):
    link = world.link()
    world.client.get(link)
    world.client.get(link, headers=JSON)

    reads = world.audit(action="read", object_type="booking", object_id=str(world.booking))
    assert len(reads) == 2
    assert {(r.actor, r.actor_id, r.detail["via"]) for r in reads} == {
        ("participant", None, "appointment_link")}
    token = link.rsplit("/", 1)[1]
    assert all(token not in repr((e.detail, e.object_id)) for e in world.audit())


# ---- links that open nothing --------------------------------------------------------

def _unknown_feed(client) -> bytes:
    return client.get("/calendar/" + "x" * 43 + ".ics").data


def test_forged_unknown_superseded_and_expired_links_are_the_feeds_plain_404(world):
    link = world.link()
    token = link.rsplit("/", 1)[1]
    payload, signature = token.split(".")
    forged = f"/appointments/{payload}.{signature[:-2]}xx"
    unknown = "/appointments/" + "x" * 43
    # Another booking's id under this booking's signature.
    swapped = f"/appointments/WzIsMF0.{signature}"
    feed_404 = _unknown_feed(world.client)

    for path in (forged, unknown, swapped):
        answer = world.client.get(path)
        assert answer.status_code == 404, path
        assert answer.data == feed_404
        assert not PRODUCT.search(answer.get_data(as_text=True))

    world.client.post(link + "/move", json={"session_id": world.c})
    superseded = world.client.get(link)
    assert superseded.status_code == 404
    assert superseded.data == feed_404

    expired = world.link(world.module_2)
    clock.set_now("2027-01-12T19:30:00+00:00")  # the session has ended
    assert world.client.get(expired).data == feed_404
    assert world.client.get(expired, headers=JSON).status_code == 404


def test_a_value_signed_with_the_same_secret_for_another_purpose_opens_nothing(world):
    from itsdangerous import URLSafeSerializer

    other = URLSafeSerializer(BASE_CONFIG["SECRET_KEY"]).dumps([world.booking, 0])
    assert world.client.get(f"/appointments/{other}").status_code == 404
    assert world.client.get(world.link()).status_code == 200


def test_a_link_opens_nothing_once_the_booking_is_cancelled_or_the_enrolment_closes(world):
    link = world.link(world.module_2)
    world.coordinator.delete(f"/bookings/{world.module_2}")
    assert world.client.get(link).status_code == 404

    link = world.link()
    world.officer.post(f"/enrolments/{world.enrolment}/decisions",
                       {"decision": "withdraw", "reason": "Moved abroad"})
    assert world.client.get(link).status_code == 404


def test_an_unknown_link_answers_json_404_when_json_is_asked_for(client):
    response = client.get("/appointments/nothing-here", headers=JSON)
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["code"] == "not_found"
    assert not PRODUCT.search(response.get_data(as_text=True))


# ---- moving -------------------------------------------------------------------------

def test_a_move_cancels_the_old_booking_invites_to_the_new_and_the_old_link_stops(world):
    link = world.link()
    before = len(world.messages())

    response = world.client.post(link + "/move", json={"session_id": world.c})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["starts_at"] == "2027-01-04T18:00:00+00:00"
    assert body["moves_left"] == 1
    # Within the 24 hours before the new appointment: no more moving online.
    assert (body["can_move"], body["alternatives"]) == (False, [])
    sent = world.messages()[before:]
    assert [m.kind for m in sent] == ["cancellation", "invitation", "reminder"]
    assert sent[0].booking_id == world.booking
    new_booking = sent[1].booking_id
    assert new_booking != world.booking
    new_link = body["link"].split("localhost", 1)[1]
    assert sent[1].payload["link"] == body["link"]
    assert world.client.get(link).status_code == 404
    assert world.client.get(new_link, headers=JSON).get_json()["starts_at"] == body["starts_at"]

    enrolment = world.coordinator.get(f"/enrolments/{world.enrolment}").get_json()
    statuses = {b["id"]: b["status"] for b in enrolment["bookings"]}
    assert statuses[world.booking] == "cancelled"
    assert statuses[new_booking] == "booked"


def test_a_move_is_audited_as_the_participant(world):
    world.client.post(world.link() + "/move", json={"session_id": world.c})

    cancelled = world.audit(action="update", object_type="booking",
                            object_id=str(world.booking))
    assert [(e.actor, e.detail["via"], e.detail["cancelled"]) for e in cancelled] == [
        ("participant", "appointment_link", True)]
    made = world.audit(action="create", object_type="booking",
                       object_id=str(cancelled[0].detail["moved_to"]))
    assert [e.actor for e in made] == ["participant"]
    assert made[0].remote_addr == "127.0.0.1"


def test_a_form_move_redirects_to_the_new_appointment_with_a_confirmation(world):
    link = world.link()
    token = world.page_form(link)

    response = world.client.post(link + "/move",
                                 data={"csrf_token": token, "session_id": world.c})

    assert response.status_code == 302
    assert response.headers["Location"] != link
    page = world.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your appointment has changed" in page
    assert "Monday 4 January 2027" in page
    assert world.client.get(link).status_code == 404


def test_a_form_move_from_a_client_asking_for_json_is_answered_in_json(world):
    link = world.link()
    token = world.page_form(link)
    refused = world.client.post(link + "/move", headers=JSON,
                                data={"csrf_token": token, "session_id": world.b})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["code"] == "spacing"

    moved = world.client.post(link + "/move", headers=JSON,
                              data={"csrf_token": token, "session_id": world.c})
    assert moved.status_code == 200
    assert moved.get_json()["starts_at"] == "2027-01-04T18:00:00+00:00"


def test_a_form_move_without_a_choice_shows_the_field_error(world):
    link = world.link()
    response = world.client.post(link + "/move", data={"csrf_token": world.page_form(link)})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html
    assert html.count("Select the appointment you want instead") == 2  # summary and field
    assert 'href="#session_id"' in html
    assert world.client.get(link).status_code == 200, "nothing changed"


def test_a_form_move_without_the_csrf_token_is_refused_and_changes_nothing(world):
    link = world.link()
    response = world.client.post(link + "/move", data={"session_id": world.c})

    assert response.status_code == 400
    assert not PRODUCT.search(response.get_data(as_text=True))
    assert world.client.get(link).status_code == 200


def test_a_session_the_rules_refuse_is_their_code_and_nothing_changes(world):
    link = world.link()
    before = len(world.messages())

    response = world.client.post(link + "/move", json={"session_id": world.b})

    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "spacing"
    assert len(world.messages()) == before
    assert world.client.get(link).status_code == 200
    refused = world.audit(action="refused", object_type="booking")
    assert [(e.actor, e.detail["code"]) for e in refused] == [("participant", "spacing")]


def test_a_full_session_is_a_409_and_the_page_says_to_choose_another(world, api_as):
    full = world.publish(1, "2027-01-04T20:00:00", capacity=1)
    other = enrol_case(world.officer, reference="CASE/2")["id"]
    world.book(full, enrolment=other)
    link = world.link()

    assert world.client.post(link + "/move", json={"session_id": full}).status_code == 409
    response = world.client.post(link + "/move", data={
        "csrf_token": world.page_form(link), "session_id": full})
    assert "Someone has just taken the last place at that time" in response.get_data(
        as_text=True)


def test_the_same_session_again_is_already_booked(world):
    response = world.client.post(world.link() + "/move", json={"session_id": world.a})
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["code"] == "already_booked"


def test_a_session_that_does_not_exist_is_a_404_or_a_field_error(world):
    link = world.link()
    assert world.client.post(link + "/move", json={"session_id": 999}).status_code == 404
    assert world.client.post(link + "/move", json={"session_id": "x"}).status_code == 400
    page = world.client.post(link + "/move", data={
        "csrf_token": world.page_form(link), "session_id": "2147483648"})
    assert "Select the appointment you want instead" in page.get_data(as_text=True)


def test_moves_close_at_the_cutoff_before_the_start(world):
    link = world.link()
    clock.set_now("2027-01-04T18:00:00+00:00")  # exactly 24 hours before 6pm on the 5th
    assert world.client.get(link, headers=JSON).get_json()["can_move"] is True

    clock.set_now("2027-01-04T18:00:01+00:00")
    shown = world.client.get(link, headers=JSON).get_json()
    assert (shown["can_move"], shown["alternatives"]) == (False, [])
    response = world.client.post(link + "/move", json={"session_id": world.b})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "self_service_closed"
    html = world.client.get(link).get_data(as_text=True)
    assert "It is too close to your appointment to change it online" in html
    assert "Ask us to call you" in html


def test_the_last_move_allowed_then_self_service_limit(world, api_as):
    admin = api_as("admin", force=None)
    assert admin.patch("/programmes/1", {"self_service_moves": 1}).status_code == 200
    later = world.publish(1, "2027-01-05T12:00:00")
    link = world.link()

    first = world.client.post(link + "/move", json={"session_id": later})
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["moves_left"], first.get_json()["can_move"]) == (0, False)

    again = first.get_json()["link"].split("localhost", 1)[1]
    refused = world.client.post(again + "/move", json={"session_id": world.a})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["code"] == "self_service_limit"
    html = world.client.get(again).get_data(as_text=True)
    assert "as many as you can" in html
    assert "Ask us to call you" in html


def test_a_move_frees_the_place_for_the_first_on_the_waitlist(world):
    full_a = world.coordinator.patch(f"/sessions/{world.a}", {"capacity": 1})
    assert full_a.status_code == 200
    waiting = enrol_case(world.officer, reference="CASE/2")["id"]
    assert world.coordinator.post(f"/sessions/{world.a}/waitlist",
                                  {"enrolment_id": waiting}).status_code == 201
    link = world.link()

    assert world.client.post(link + "/move", json={"session_id": world.c}).status_code == 200

    theirs = world.coordinator.get(f"/enrolments/{waiting}").get_json()["bookings"]
    assert [(b["session_id"], b["status"]) for b in theirs] == [(world.a, "booked")]


# ---- asking to be called ------------------------------------------------------------

def test_a_callback_appears_on_the_coordinators_home_until_dealt_with(world, login_as):
    link = world.link()
    response = world.client.post(link + "/callback",
                                 json={"message": "Evenings after 6 are best"})
    assert response.status_code == 202
    assert world.client.get(link, headers=JSON).get_json()["callback_requested"] is True

    login_as("coordinator", force=None, email="desk@example.gov.uk")
    home = world.client.get("/coordinator/sessions").get_data(as_text=True)
    assert "Asked to be called" in home
    assert "Sam Taylor" in home and "Evenings after 6 are best" in home
    assert f"/coordinator/participants/{world.enrolment}" in home

    page = world.client.get(f"/coordinator/participants/{world.enrolment}")
    html = page.get_data(as_text=True)
    assert "Evenings after 6 are best" in html
    request_id = re.search(r'/callbacks/(\d+)/dealt-with"', html).group(1)
    done = world.client.post(
        f"/coordinator/participants/{world.enrolment}/callbacks/{request_id}/dealt-with",
        data={"csrf_token": csrf_from(html)})
    assert done.status_code == 302
    assert "Evenings after 6 are best" not in world.client.get(
        "/coordinator/sessions").get_data(as_text=True)
    marked = world.audit(action="update", object_type="callback_request")
    assert [(e.actor, e.detail) for e in marked] == [
        ("desk@example.gov.uk", {"dealt_with": True})]


def test_a_case_officer_sees_the_request_and_can_mark_it_dealt_with(world, login_as):
    link = world.link()
    world.client.post(link + "/callback", data={"csrf_token": world.page_form(link),
                                                "message": ""})
    login_as("case_officer", email="officer.two@example.gov.uk")
    html = world.client.get(f"/cases/enrolments/{world.enrolment}").get_data(as_text=True)
    assert "Asked to be called" in html
    request_id = re.search(r'/callbacks/(\d+)/dealt-with"', html).group(1)

    world.client.post(f"/cases/enrolments/{world.enrolment}/callbacks/{request_id}/dealt-with",
                      data={"csrf_token": csrf_from(html)})

    with world.app.app_context():
        request = db.session.get(CallbackRequest, int(request_id))
        assert request.dealt_with_at is not None
        db.session.remove()


def test_another_forces_case_officer_cannot_mark_a_request(world, login_as):
    world.client.post(world.link() + "/callback", json={})
    login_as("case_officer", force="KENT", email="kent@example.gov.uk")
    page = world.client.get("/cases")
    answer = world.client.post(
        f"/cases/enrolments/{world.enrolment}/callbacks/1/dealt-with",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 404


def test_a_form_callback_confirms_on_a_page_of_its_own(world):
    link = world.link()
    response = world.client.post(link + "/callback", data={
        "csrf_token": world.page_form(link), "message": "Please call after 5pm"})

    assert response.status_code == 302
    confirmation = world.client.get(response.headers["Location"])
    html = confirmation.get_data(as_text=True)
    assert "We will call you" in html
    assert not PRODUCT.search(html)
    created = world.audit(action="create", object_type="callback_request")
    assert [(e.actor, e.detail["with_message"]) for e in created] == [("participant", True)]
    assert "after 5pm" not in repr(created[0].detail)


def test_a_callback_message_too_long_is_a_field_error_and_nothing_is_recorded(world):
    link = world.link()
    page = world.client.post(link + "/callback", data={
        "csrf_token": world.page_form(link), "message": "x" * 501})
    assert "Your message must be 500 characters or fewer" in page.get_data(as_text=True)
    answer = world.client.post(link + "/callback", json={"message": "x" * 501})
    assert answer.status_code == 400
    assert answer.get_json()["errors"][0]["field"] == "message"
    assert world.audit(object_type="callback_request") == []


def test_a_callback_through_a_dead_link_is_a_404(world):
    assert world.client.post("/appointments/nothing/callback", json={}).status_code == 404


# ---- in the participant's language ---------------------------------------------------

def test_a_welsh_participants_page_is_welsh_and_an_english_ones_is_not(world):
    welsh = world.book(world.a, enrol_case(world.officer, "CASE/CY", language="cy")["id"])
    link = world.link(welsh)
    page = world.client.get(link)
    html = page.get_data(as_text=True)
    text = text_of(page)
    assert page.status_code == 200
    assert '<html lang="cy"' in html
    assert "<title>Eich apwyntiad" in html
    for words in ("Neidio i'r prif gynnwys", "Apwyntiadau", "Dyddiad Dydd Mawrth 5 Ionawr 2027",
                  "Amser 18:00 tan 19:30", "Lle Civic Centre, 1 High Street",
                  "Cyrhaeddwch 10 munud yn gynnar", "Newid eich apwyntiad",
                  "Pa apwyntiad ydych chi eisiau yn ei le?",
                  "Dydd Llun 4 Ionawr 2027, 18:00 tan 19:30",
                  "Gallwch newid yr un hwn tan", "Newid fy apwyntiad",
                  "Gofyn i ni eich ffonio", "Gallwch hefyd ein ffonio ar 0300 123 4567",
                  "Gallwch roi hyd at 500 nod"):
        assert words in text, words
    for english in ("Your appointment", "Change", "Ask us", "January", "6pm", "Skip"):
        assert english not in text, english
    assert disclosing_words(text) == []

    # A field error, and the page that had expired, say so in Welsh too.
    token = world.page_form(link)
    refused = world.client.post(link + "/move", data={"csrf_token": token})
    assert "<title>Gwall: Eich apwyntiad" in refused.get_data(as_text=True)
    assert "Mae problem wedi codi Dewiswch yr apwyntiad rydych chi eisiau yn ei le" in (
        text_of(refused))
    expired = world.client.post(link + "/move", data={"csrf_token": "old"})
    assert expired.status_code == 400
    assert '<html lang="cy"' in expired.get_data(as_text=True)
    assert "Roedd y dudalen wedi dod i ben." in text_of(expired)

    # Asking to be called: the confirmation is Welsh.
    asked = world.client.post(link + "/callback", data={"csrf_token": token},
                              follow_redirects=True)
    assert '<html lang="cy"' in asked.get_data(as_text=True)
    assert "Byddwn yn eich ffonio Mae eich cais wedi dod i law" in text_of(asked)
    assert "Dydd Mawrth 5 Ionawr 2027 am 18:00" in text_of(asked)

    english = world.client.get(world.link())
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert "Date Tuesday 5 January 2027 Time 6pm to 7:30pm" in text_of(english)
    assert "Ask us to call you" in text_of(english)
    expired = world.client.post(world.link() + "/move", data={"csrf_token": "old"})
    assert '<html lang="en"' in expired.get_data(as_text=True)
    assert "The page had expired." in text_of(expired)


# ---- throttling ---------------------------------------------------------------------

@pytest.fixture
def throttled(database_url):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                      "RATELIMIT_ENABLED": True, "APPOINTMENT_LINK_LIMIT": "3 per minute",
                      "APPOINTMENT_ADDRESS_LIMIT": "5 per minute"})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_one_link_is_throttled_and_one_address_is_throttled_across_links(throttled):
    client = throttled.test_client()
    answers = [client.get("/appointments/one").status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]

    # Other links from the same address: the address's five are soon used up.
    other = [client.get(f"/appointments/guess-{n}").status_code for n in range(3)]
    assert other[0] == 404 and other[-1] == 429
    blocked = client.get("/appointments/guess-9")
    assert not PRODUCT.search(blocked.get_data(as_text=True))
    assert client.get("/appointments/guess-9",
                      environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 404
