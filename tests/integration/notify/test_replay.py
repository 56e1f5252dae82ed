"""A participant's calendar, rebuilt from their mail alone, matches their bookings."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.integration.notify.conftest import deliver

DISCLOSING = re.compile(
    r"\b(offence|prosecution|police|child|abuse|images|court|sexual)\b", re.IGNORECASE)


class CalendarClient:
    """Applies iTIP REQUEST and CANCEL by UID, honouring SEQUENCE, as mail clients do."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[int, datetime, datetime]] = {}
        self.cancelled: dict[str, int] = {}
        self.seen_message_ids: set[str] = set()

    def receive(self, received) -> None:
        if received.message_id in self.seen_message_ids:
            return
        self.seen_message_ids.add(received.message_id)
        calendar = received.calendar()
        if calendar is None:
            return
        method = str(calendar["METHOD"])
        assert received.part("text/calendar").get_param("method") == method
        for event in calendar.walk("VEVENT"):
            uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
            known = self.events.get(uid, (self.cancelled.get(uid, -1),))[0]
            if sequence < known or (uid in self.cancelled and sequence <= self.cancelled[uid]):
                continue
            if method == "CANCEL":
                self.events.pop(uid, None)
                self.cancelled[uid] = sequence
            else:
                self.events[uid] = (sequence, event.decoded("DTSTART").astimezone(UTC),
                                    event.decoded("DTEND").astimezone(UTC))

    def appointments(self) -> list[tuple[datetime, datetime]]:
        return sorted((start, end) for _, start, end in self.events.values())


def booked(world, enrolment_id) -> list[tuple[datetime, datetime]]:
    detail = world["coordinator"].get(f"/enrolments/{enrolment_id}").get_json()
    return sorted(
        (datetime.fromisoformat(b["starts_at"]).astimezone(UTC),
         datetime.fromisoformat(b["ends_at"]).astimezone(UTC))
        for b in detail["bookings"] if b["status"] == "booked"
    )


def test_replaying_the_mail_gives_the_booked_sessions_after_a_move_a_rebooking_and_a_cancel(
    world, mailbox
):
    sam = world["enrol"]("sam@example.com")
    other = world["enrol"]("alex@example.com")
    first = world["session"]("2027-01-12T18:00:00")
    spare = world["session"]("2027-01-19T18:00:00")
    coordinator = world["coordinator"]
    client = CalendarClient()

    def step() -> None:
        deliver(world["app"])
        for received in mailbox.to("sam@example.com")[len(client.seen_message_ids):]:
            client.receive(received)
        assert client.appointments() == booked(world, sam["id"])

    world["book"](sam, first)
    world["book"](other, first)
    step()
    assert len(client.appointments()) == 1

    assert coordinator.patch(f"/sessions/{first['id']}",
                             {"starts_at": "2027-01-13T18:30:00"}).status_code == 200
    step()
    assert client.appointments()[0][0] == datetime(2027, 1, 13, 18, 30, tzinfo=UTC)

    response = coordinator.post(f"/sessions/{first['id']}/cancel",
                                {"reason": "Room unavailable", "rebook": True})
    assert response.status_code == 200, response.get_json()
    step()
    assert client.appointments()[0][0] == datetime(2027, 1, 19, 18, 0, tzinfo=UTC)
    rebooked = next(r for r in response.get_json()["rebooked"] if r["enrolment_id"] == sam["id"])
    assert rebooked["session_id"] == spare["id"]

    assert coordinator.delete(f"/bookings/{rebooked['booking_id']}",
                              json={"reason": "Asked to rearrange"}).status_code == 200
    step()
    assert client.appointments() == []

    sams_mail = mailbox.to("sam@example.com")
    assert [m.message["Subject"].split(":")[0] for m in sams_mail] == [
        "Your appointment on Tuesday 12 January at 6pm",
        "Updated",
        "Cancelled",
        "Your appointment on Tuesday 19 January at 6pm",
        "Cancelled",
    ]
    assert all(m.rcpt_tos == ["sam@example.com"] for m in sams_mail)


def test_no_mail_in_the_whole_exchange_uses_a_disclosing_word(world, mailbox):
    sam = world["enrol"]("sam@example.com")
    session = world["session"]("2027-01-05T18:00:00")  # close enough for a reminder now
    world["session"]("2027-01-07T18:00:00")
    world["book"](sam, session)
    coordinator = world["coordinator"]
    deliver(world["app"])
    coordinator.patch(f"/sessions/{session['id']}", {"starts_at": "2027-01-05T18:30:00"})
    deliver(world["app"])
    response = coordinator.post(f"/sessions/{session['id']}/cancel",
                                {"reason": "Police incident nearby", "rebook": True})
    deliver(world["app"])
    [rebooked] = response.get_json()["rebooked"]
    coordinator.delete(f"/bookings/{rebooked['booking_id']}", json={"reason": "Court date"})
    deliver(world["app"])
    kinds = [m.message["Subject"].split(":")[0] for m in mailbox.messages]
    assert {"Updated", "Cancelled", "Reminder"} <= set(kinds)
    for received in mailbox.messages:
        texts = [received.message["Subject"]]
        for part in received.message.walk():
            if not part.is_multipart():
                texts.append(part.get_payload(decode=True).decode("utf-8"))
        for text in texts:
            assert not DISCLOSING.search(text), text
