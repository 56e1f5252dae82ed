"""The appointment link as it arrives by SMTP: in the text and HTML of each invitation,
update and reminder, opening the appointment the message is about, and no other."""

from __future__ import annotations

import re

from diversion import clock
from tests.integration.notify.conftest import deliver, kind_of

LINK = re.compile(r"http://localhost(/appointments/[A-Za-z0-9_.\-]+)")


def _links(received) -> tuple[set[str], set[str]]:
    text = received.message.get_body(("plain",)).get_content()
    html = received.message.get_body(("html",)).get_content()
    return set(LINK.findall(text)), set(LINK.findall(html))


def test_every_message_but_the_cancellation_carries_the_link_to_its_appointment(
        world, mailbox, client):
    enrolment = world["enrol"]("sam@example.com")
    session = world["session"]("2027-01-07T18:00:00")
    booking = world["book"](enrolment, session)
    coordinator = world["coordinator"]
    assert coordinator.patch(f"/sessions/{session['id']}",
                             {"starts_at": "2027-01-07T19:00:00"}).status_code == 200
    clock.set_now("2027-01-05T19:00:00+00:00")  # the reminder is due, 48 hours before
    assert deliver(world["app"]).sent == 3

    mail = {kind_of(m): m for m in mailbox.to("sam@example.com")}
    assert set(mail) == {"invitation", "update", "reminder"}
    links = {kind: _links(received) for kind, received in mail.items()}
    for kind, (text, html) in links.items():
        assert len(text) == 1 and text == html, kind
    [invited] = links["invitation"][0]
    [updated] = links["update"][0]
    assert links["reminder"][0] == {updated}, "the reminder was queued again with the move"
    assert client.get(invited).status_code == 404, "the move superseded the first link"
    opened = client.get(updated, headers={"Accept": "application/json"}).get_json()
    assert opened["starts_at"] == "2027-01-07T19:00:00+00:00"

    assert coordinator.delete(f"/bookings/{booking['id']}").status_code == 200
    assert deliver(world["app"]).sent == 1
    cancellation = mailbox.to("sam@example.com")[-1]
    assert kind_of(cancellation) == "cancellation"
    assert _links(cancellation) == (set(), set())
    assert client.get(updated).status_code == 404
