from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import vobject
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from diversion.calendar.events import (
    DISCLOSING_WORDS,
    PRODID,
    Appointment,
    clean_email,
    clean_text,
    feed,
    invitation,
)
from diversion.domain.privacy import disclosing_words

LONDON = ZoneInfo("Europe/London")
STAMP = datetime(2027, 3, 1, 9, 15, 42, 123456, tzinfo=UTC)
ORGANIZER = "bookings@diversion.example"
ATTENDEE = "participant@example.com"
LONG_LOCATION = (
    "Salle de réunion — Maison des Associations, 12 rue de l'Église, "
    "Bâtiment É — 2ᵉ étage — entrée côté café — " * 4
)


def appointment(**changes) -> Appointment:
    base = Appointment(
        uid="booking-123-f3a9c1@diversion.invalid",
        sequence=0,
        starts_at=datetime(2027, 3, 29, 10, 0, tzinfo=LONDON),
        ends_at=datetime(2027, 3, 29, 11, 30, tzinfo=LONDON),
        summary="Appointment",
        location="Room 1, Riverside Centre, 4 Mill Lane, Leeds LS1 4AB",
        description="Bring photo ID. Questions: 0113 496 0000",
    )
    return dataclasses.replace(base, **changes)


def invite(appt: Appointment | None = None, **kwargs) -> bytes:
    kwargs.setdefault("organizer", ORGANIZER)
    kwargs.setdefault("attendee", ATTENDEE)
    kwargs.setdefault("attendee_name", "Sam Taylor")
    kwargs.setdefault("dtstamp", STAMP)
    return invitation(appt or appointment(), **kwargs)


def cancel(appt: Appointment | None = None, **kwargs) -> bytes:
    appt = appt or appointment(sequence=1, cancelled=True)
    return invite(appt, method="CANCEL", **kwargs)


def a_feed(appts=None, **kwargs) -> bytes:
    kwargs.setdefault("dtstamp", STAMP)
    kwargs.setdefault("name", "My appointments")
    if appts is None:
        appts = [appointment()]
    return feed(appts, **kwargs)


def lines(raw: bytes) -> list[bytes]:
    assert raw.endswith(b"\r\n")
    return raw[:-2].split(b"\r\n")


def unfolded(raw: bytes) -> list[str]:
    return raw.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def named(raw: bytes, name: str) -> list[str]:
    """Return the unfolded content lines named name, outside the VTIMEZONE."""
    pattern = re.compile(rf"{re.escape(name)}[;:]")
    found, in_timezone = [], False
    for line in unfolded(raw):
        if line in ("BEGIN:VTIMEZONE", "END:VTIMEZONE"):
            in_timezone = line.startswith("BEGIN")
        elif not in_timezone and pattern.match(line):
            found.append(line)
    return found


def the_event(raw: bytes):
    events = Calendar.from_ical(raw).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def outputs() -> dict[str, bytes]:
    long = appointment(location=LONG_LOCATION, description=LONG_LOCATION)
    return {
        "request": invite(),
        "cancel": cancel(),
        "feed": a_feed(),
        "request-long-multibyte": invite(long, attendee_name="Zoë Ångström-Lefèvre — " * 5),
        "cancel-long-multibyte": cancel(dataclasses.replace(long, sequence=2, cancelled=True)),
        "feed-long-multibyte": a_feed([long, appointment(uid="other@diversion.invalid")]),
    }


OUTPUTS = outputs()


# Both parsers ------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTPUTS)
def test_every_output_parses_with_icalendar(kind):
    cal = Calendar.from_ical(OUTPUTS[kind])
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == PRODID
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert cal.walk("VEVENT")


@pytest.mark.parametrize("kind", OUTPUTS)
def test_every_output_parses_and_validates_with_vobject(kind):
    cal = vobject.readOne(OUTPUTS[kind].decode("utf-8"))
    assert cal.validate(raiseException=True)
    assert cal.vevent.uid.value


def test_vobject_reads_the_text_values_back_unchanged():
    appt = appointment(location=LONG_LOCATION, description="Bring: ID; a pen, and\\ a form")
    event = vobject.readOne(invite(appt).decode("utf-8")).vevent
    assert event.location.value == clean_text(LONG_LOCATION)
    assert event.description.value == "Bring: ID; a pen, and\\ a form"
    assert event.dtstart.value == appt.starts_at


# Line format ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTPUTS)
def test_every_line_is_at_most_75_octets(kind):
    for line in lines(OUTPUTS[kind]):
        assert len(line) <= 75, line


@pytest.mark.parametrize("kind", OUTPUTS)
def test_lines_end_in_crlf_and_there_is_no_bare_cr_or_lf(kind):
    raw = OUTPUTS[kind]
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")


@pytest.mark.parametrize("kind", OUTPUTS)
def test_folding_never_splits_a_multibyte_character(kind):
    for line in lines(OUTPUTS[kind]):
        line.decode("utf-8")  # raises if a fold cut a character in two


def test_a_long_multibyte_location_survives_folding_intact():
    raw = invite(appointment(location=LONG_LOCATION))
    assert len(named(raw, "LOCATION")[0].encode()) > 75
    assert str(the_event(raw)["LOCATION"]) == clean_text(LONG_LOCATION)


# The event -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTPUTS)
def test_dtstamp_is_utc_with_a_z(kind):
    for line in named(OUTPUTS[kind], "DTSTAMP"):
        assert line == "DTSTAMP:20270301T091542Z"


def test_dtstamp_comes_from_the_argument_converted_to_utc():
    stamp = datetime(2027, 7, 1, 12, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert named(invite(dtstamp=stamp), "DTSTAMP") == ["DTSTAMP:20270701T110005Z"]


def test_a_naive_dtstamp_is_refused():
    with pytest.raises(ValueError, match="dtstamp"):
        invite(dtstamp=datetime(2027, 3, 1, 9, 0))


@pytest.mark.parametrize("kind", OUTPUTS)
def test_each_event_has_exactly_one_sequence_line(kind):
    raw = OUTPUTS[kind]
    assert len(named(raw, "SEQUENCE")) == len(named(raw, "UID"))
    for event in Calendar.from_ical(raw).walk("VEVENT"):
        assert not isinstance(event["SEQUENCE"], list)


def test_the_sequence_is_the_appointments():
    assert named(invite(appointment(sequence=7)), "SEQUENCE") == ["SEQUENCE:7"]


def test_an_invitation_has_exactly_one_attendee_the_recipient():
    raw = invite()
    assert len(named(raw, "ATTENDEE")) == 1
    attendee = the_event(raw)["ATTENDEE"]
    assert str(attendee) == f"mailto:{ATTENDEE}"
    assert attendee.params["CN"] == "Sam Taylor"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "FALSE"


def test_the_attendee_has_no_cn_when_there_is_no_name():
    for name in (None, "", " \r\n "):
        attendee = the_event(invite(attendee_name=name))["ATTENDEE"]
        assert "CN" not in attendee.params


def test_an_attendee_name_with_quotes_commas_and_colons_stays_one_parameter():
    raw = invite(attendee_name='Sam "Sammy" Taylor, Jr; Esq: X')
    attendee = the_event(raw)["ATTENDEE"]
    assert attendee.params["CN"] == "Sam 'Sammy' Taylor, Jr; Esq: X"
    assert str(attendee) == f"mailto:{ATTENDEE}"


def test_the_organizer_is_a_bare_mailto_address():
    assert named(invite(), "ORGANIZER") == [f"ORGANIZER:mailto:{ORGANIZER}"]


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_method_is_at_calendar_level_and_equals_the_argument(method):
    appt = appointment(cancelled=method == "CANCEL")
    raw = invite(appt, method=method)
    cal = Calendar.from_ical(raw)
    assert str(cal["METHOD"]) == method
    assert "METHOD" not in the_event(raw)
    text = unfolded(raw)
    assert text.count(f"METHOD:{method}") == 1
    assert text.index(f"METHOD:{method}") < text.index("BEGIN:VEVENT")


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        invite(method="PUBLISH")


def test_a_cancelled_appointment_cannot_be_sent_as_a_request():
    with pytest.raises(ValueError, match="CANCEL"):
        invite(appointment(cancelled=True), method="REQUEST")


@pytest.mark.parametrize("kind", OUTPUTS)
def test_dtstart_and_dtend_carry_the_london_tzid_and_no_z(kind):
    raw = OUTPUTS[kind]
    for name in ("DTSTART", "DTEND"):
        for line in named(raw, name):
            assert line.startswith(f"{name};TZID=Europe/London:"), line
            assert not line.endswith("Z"), line
    assert not named(raw, "DURATION")


def test_start_and_end_are_written_in_london_wall_time_whatever_zone_they_came_in():
    summer = appointment(
        starts_at=datetime(2027, 7, 1, 9, 0, tzinfo=UTC),
        ends_at=datetime(2027, 7, 1, 10, 30, tzinfo=UTC),
    )
    winter = appointment(
        starts_at=datetime(2027, 12, 1, 9, 0, tzinfo=UTC),
        ends_at=datetime(2027, 12, 1, 10, 30, tzinfo=UTC),
    )
    assert named(invite(summer), "DTSTART") == ["DTSTART;TZID=Europe/London:20270701T100000"]
    assert named(invite(summer), "DTEND") == ["DTEND;TZID=Europe/London:20270701T113000"]
    assert named(invite(winter), "DTSTART") == ["DTSTART;TZID=Europe/London:20271201T090000"]


def test_the_parsed_start_is_the_same_instant_as_the_appointments():
    appt = appointment()
    event = the_event(invite(appt))
    assert event.DTSTART == appt.starts_at
    assert event.DTEND == appt.ends_at


@pytest.mark.parametrize("kind", OUTPUTS)
def test_there_is_one_vtimezone_for_the_tzid_used(kind):
    cal = Calendar.from_ical(OUTPUTS[kind])
    zones = cal.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/London"]


def test_a_tzid_other_than_london_is_refused():
    with pytest.raises(ValueError, match="every programme runs in Europe/London"):
        invite(tzid="Europe/Paris")


def test_an_unknown_tzid_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        invite(tzid="Europe/Atlantis")


@pytest.mark.parametrize("kind", OUTPUTS)
def test_no_output_has_an_alarm(kind):
    assert b"VALARM" not in OUTPUTS[kind]


def test_a_request_is_confirmed_and_opaque():
    event = the_event(invite())
    assert event["STATUS"] == "CONFIRMED"
    assert event["TRANSP"] == "OPAQUE"


def test_the_text_fields_are_the_appointments():
    appt = appointment()
    event = the_event(invite(appt))
    assert event["UID"] == appt.uid
    assert event["SUMMARY"] == "Appointment"
    assert event["LOCATION"] == appt.location
    assert event["DESCRIPTION"] == appt.description


def test_commas_semicolons_and_backslashes_are_escaped_in_text():
    appt = appointment(location="Hall A, Block B; 1\\2 Mill Lane")
    raw = invite(appt)
    assert named(raw, "LOCATION") == ["LOCATION:Hall A\\, Block B\\; 1\\\\2 Mill Lane"]
    assert the_event(raw)["LOCATION"] == "Hall A, Block B; 1\\2 Mill Lane"


def test_the_same_input_gives_the_same_bytes():
    assert invite() == invite()
    assert a_feed() == a_feed()


# Cancellation --------------------------------------------------------------------


def test_a_cancellation_is_cancelled_with_the_same_uid_and_the_higher_sequence():
    original = appointment()
    raw = cancel(dataclasses.replace(original, sequence=3, cancelled=True))
    event = the_event(raw)
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == the_event(invite(original))["UID"]
    assert named(raw, "SEQUENCE") == ["SEQUENCE:3"]
    assert str(Calendar.from_ical(raw)["METHOD"]) == "CANCEL"


def test_a_cancellation_names_the_organizer_and_the_attendee_and_keeps_the_vtimezone():
    raw = cancel()
    assert named(raw, "ORGANIZER") == [f"ORGANIZER:mailto:{ORGANIZER}"]
    assert len(named(raw, "ATTENDEE")) == 1
    assert "BEGIN:VTIMEZONE" in unfolded(raw)
    assert b"VALARM" not in raw


def test_a_booking_can_be_cancelled_while_the_session_itself_goes_ahead():
    raw = invite(appointment(sequence=1), method="CANCEL")
    assert the_event(raw)["STATUS"] == "CANCELLED"


# Feed ----------------------------------------------------------------------------


def test_the_feed_has_no_method_attendee_or_organizer():
    raw = a_feed()
    assert not named(raw, "METHOD")
    assert not named(raw, "ATTENDEE")
    assert not named(raw, "ORGANIZER")


def test_the_feed_asks_to_be_refreshed_hourly():
    raw = a_feed()
    assert named(raw, "REFRESH-INTERVAL") == ["REFRESH-INTERVAL;VALUE=DURATION:PT1H"]
    assert named(raw, "X-PUBLISHED-TTL") == ["X-PUBLISHED-TTL:PT1H"]


def test_the_feed_carries_its_name():
    raw = a_feed(name="Sam's\r\nappointments")
    assert named(raw, "X-WR-CALNAME") == ["X-WR-CALNAME:Sam's appointments"]


def test_the_feed_leaves_cancelled_appointments_out():
    kept = appointment(uid="kept@diversion.invalid")
    dropped = appointment(uid="dropped@diversion.invalid", sequence=2, cancelled=True)
    raw = a_feed([dropped, kept])
    assert [str(e["UID"]) for e in Calendar.from_ical(raw).walk("VEVENT")] == [kept.uid]


def test_the_feed_uses_the_invitations_uids_and_sequences_and_confirms_them():
    appts = [
        appointment(uid="b@diversion.invalid", sequence=2),
        appointment(
            uid="a@diversion.invalid",
            starts_at=datetime(2027, 5, 3, 10, tzinfo=LONDON),
            ends_at=datetime(2027, 5, 3, 11, 30, tzinfo=LONDON),
        ),
    ]
    events = Calendar.from_ical(a_feed(appts)).walk("VEVENT")
    for appt in appts:
        invited = the_event(invite(appt))
        (listed,) = [e for e in events if e["UID"] == appt.uid]
        assert listed["UID"] == invited["UID"]
        assert listed["SEQUENCE"] == invited["SEQUENCE"] == appt.sequence
        assert listed.DTSTART == invited.DTSTART
        assert listed["STATUS"] == "CONFIRMED"


def test_an_empty_feed_is_still_a_valid_calendar():
    raw = a_feed([])
    assert Calendar.from_ical(raw).walk("VEVENT") == []
    assert vobject.readOne(raw.decode()).validate(raiseException=True)


def test_a_feed_with_one_uid_twice_is_refused():
    with pytest.raises(ValueError, match="duplicate uid"):
        a_feed([appointment(), appointment(sequence=1)])


# Injection and sanitising --------------------------------------------------------

INJECTION = "Room 1\r\nATTENDEE:mailto:evil@example.com"


@pytest.mark.parametrize("field", ["location", "description", "summary"])
def test_a_line_break_in_a_text_field_cannot_add_an_attendee(field):
    raw = invite(appointment(**{field: INJECTION}))
    assert len(named(raw, "ATTENDEE")) == 1
    assert not any(line.startswith(b"ATTENDEE:mailto:evil") for line in lines(raw))
    assert the_event(raw)[field.upper()] == "Room 1 ATTENDEE:mailto:evil@example.com"


def test_a_line_break_in_the_attendee_name_cannot_add_an_attendee():
    raw = invite(attendee_name=INJECTION)
    assert len(named(raw, "ATTENDEE")) == 1
    assert not any(line.startswith(b"ATTENDEE:mailto:evil") for line in lines(raw))


def test_a_line_break_in_the_feed_cannot_add_an_attendee():
    raw = a_feed([appointment(location=INJECTION)], name=INJECTION)
    assert not named(raw, "ATTENDEE")


def test_clean_text_turns_line_breaks_into_spaces_and_drops_control_characters():
    assert clean_text("a\r\nb\rc\nd\te\x00f\x1bg\x7fh\u2028i\x85j") == "a b c d efgh i j"
    assert clean_text("  lots   of\n\n space  ") == "lots of space"


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "@example.com",
        "someone@",
        "some one@example.com",
        "someone@example.com\r\nATTENDEE:mailto:evil@example.com",
        "someone@exa\nmple.com",
        "someone@example.com;RSVP=TRUE",
        "someone:x@example.com",
        "mailto:someone@example.com",
        "Sam <someone@example.com>",
        '"Sam"@example.com',
        "a@example.com,b@example.com",
        "a@b@example.com",
        "someone@localhost",
    ],
)
def test_an_address_that_is_not_a_plain_email_is_refused(address):
    with pytest.raises(ValueError):
        clean_email(address)
    with pytest.raises(ValueError):
        invite(attendee=address)
    with pytest.raises(ValueError):
        invite(organizer=address)


def test_surrounding_whitespace_on_an_address_is_dropped():
    assert clean_email("  someone@example.com\r\n") == "someone@example.com"


# Privacy -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["summary", "location", "description"])
@pytest.mark.parametrize("word", ["Police", "prosecution", "OFFENCE", "children", "images"])
def test_text_that_would_reveal_the_programme_is_refused(field, word):
    with pytest.raises(ValueError, match="reveal"):
        invite(appointment(**{field: f"Station {word} room"}))


@pytest.mark.parametrize("field", ["summary", "location", "description"])
@pytest.mark.parametrize("word", ["Heddlu", "erlyniad", "throseddwyr", "mhlant", "delweddau"])
def test_welsh_text_that_would_reveal_the_programme_is_refused(field, word):
    with pytest.raises(ValueError, match="reveal"):
        invite(appointment(**{field: f"Ystafell {word}"}))


def test_a_feed_name_that_would_reveal_the_programme_is_refused():
    with pytest.raises(ValueError, match="reveal"):
        a_feed(name="Police appointments")


def test_ordinary_addresses_are_not_mistaken_for_disclosure():
    appt = appointment(location="Courtyard Rooms, 2 Court Road, Childwall, Liverpool")
    assert the_event(invite(appt))["LOCATION"] == appt.location


def test_the_disclosing_words_include_those_domain_md_names():
    assert {"offence", "prosecution", "police", "child", "abuse", "images"} <= DISCLOSING_WORDS


# Appointment -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"starts_at": datetime(2027, 3, 29, 10, 0)},
        {"ends_at": datetime(2027, 3, 29, 11, 30)},
        {"ends_at": datetime(2027, 3, 29, 10, 0, tzinfo=LONDON)},
        {"sequence": -1},
        {"sequence": True},
        {"uid": ""},
        {"uid": "booking 1@diversion.invalid"},
        {"uid": "booking-1\r\nATTENDEE:mailto:evil@example.com"},
    ],
)
def test_an_appointment_with_impossible_values_is_refused(changes):
    with pytest.raises(ValueError):
        appointment(**changes)


# Replaying a participant's mail ----------------------------------------------------


def test_replaying_requests_and_cancels_by_uid_and_sequence_leaves_the_booked_sessions():
    first = appointment(uid="one@diversion.invalid")
    second = appointment(
        uid="two@diversion.invalid",
        starts_at=datetime(2027, 4, 12, 10, tzinfo=LONDON),
        ends_at=datetime(2027, 4, 12, 11, 30, tzinfo=LONDON),
    )
    moved = dataclasses.replace(
        first,
        sequence=1,
        starts_at=datetime(2027, 4, 5, 14, tzinfo=LONDON),
        ends_at=datetime(2027, 4, 5, 15, 30, tzinfo=LONDON),
    )
    dropped = dataclasses.replace(second, sequence=1, cancelled=True)
    mail = [
        invite(first),
        invite(second),
        invite(moved, dtstamp=STAMP + timedelta(days=1)),
        invite(first),  # a late duplicate of the original: lower SEQUENCE, ignored
        cancel(dropped, dtstamp=STAMP + timedelta(days=2)),
    ]

    calendar: dict[str, tuple[int, datetime]] = {}
    for raw in mail:
        cal = Calendar.from_ical(raw)
        event = the_event(raw)
        uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
        if uid in calendar and calendar[uid][0] >= sequence:
            continue
        if str(cal["METHOD"]) == "CANCEL":
            calendar.pop(uid, None)
        else:
            calendar[uid] = (sequence, event.DTSTART)

    assert calendar == {moved.uid: (1, moved.starts_at)}


# Properties ------------------------------------------------------------------------

text_values = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\r", "\n", "\t", ",", ";", ":", "\\", '"', "é", "—", "😀"]),
    ),
    max_size=300,
)


def discloses(value: str) -> bool:
    return bool(disclosing_words(value))


@settings(max_examples=150, deadline=None)
@given(location=text_values, description=text_values, name=text_values)
def test_any_text_round_trips_on_lines_of_at_most_75_octets(location, description, name):
    assume(not discloses(location + " " + description))
    appt = appointment(location=location, description=description)
    raw = invite(appt, attendee_name=name)
    assert all(len(line) <= 75 for line in lines(raw))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert len(named(raw, "ATTENDEE")) == 1
    event = the_event(raw)
    assert str(event.get("LOCATION", "")) == clean_text(location)
    assert str(event.get("DESCRIPTION", "")) == clean_text(description)
    parsed = vobject.readOne(raw.decode("utf-8"))
    parsed.validate(raiseException=True)
    if clean_text(location):
        assert parsed.vevent.location.value == clean_text(location)


def test_an_end_in_the_repeated_october_hour_is_written_in_utc_so_no_client_misreads_it():
    # 00:30 BST to 01:00 GMT: 90 minutes, but "01:00 Europe/London" names two instants.
    starts = datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    raw = invite(appointment(starts_at=starts, ends_at=starts + timedelta(minutes=90)))
    assert named(raw, "DTSTART") == ["DTSTART;TZID=Europe/London:20271031T003000"]
    assert named(raw, "DTEND") == ["DTEND:20271031T010000Z"]
    event = Calendar.from_ical(raw).walk("VEVENT")[0]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)


def test_an_end_outside_the_repeated_hour_stays_in_local_time():
    raw = invite(appointment())
    assert named(raw, "DTEND") == ["DTEND;TZID=Europe/London:20270329T113000"]


def test_a_typed_backslash_n_stays_text_and_never_becomes_a_line_break():
    raw = invite(appointment(location="Room \\N2"))
    assert str(the_event(raw)["LOCATION"]) == clean_text("Room \\N2") == "Room \\ N2"


def test_a_feed_entry_is_stamped_when_it_last_changed_not_when_it_was_fetched():
    changed = datetime(2027, 2, 1, 9, 30, 15, tzinfo=UTC)
    first = a_feed([appointment(changed_at=changed)], dtstamp=datetime(2027, 3, 1, tzinfo=UTC))
    again = a_feed([appointment(changed_at=changed)], dtstamp=datetime(2027, 3, 2, tzinfo=UTC))
    assert first == again, "an unchanged feed reads the same an hour later"
    [event] = Calendar.from_ical(first).walk("VEVENT")
    assert event.decoded("DTSTAMP") == changed
    assert event.decoded("LAST-MODIFIED") == changed


def test_every_feed_entry_is_private():
    events = Calendar.from_ical(a_feed([appointment(), appointment(uid="b@diversion.invalid")])
                                ).walk("VEVENT")
    assert [str(e["CLASS"]) for e in events] == ["PRIVATE", "PRIVATE"]


def test_a_naive_change_time_is_refused():
    with pytest.raises(ValueError, match="changed_at must be timezone-aware"):
        appointment(changed_at=datetime(2027, 2, 1, 9, 30))
