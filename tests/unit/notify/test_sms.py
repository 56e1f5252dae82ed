"""Writing a text message, reading Notify's settings and receipts: no app, no network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from diversion.domain.contact import may_text
from diversion.notify.receipts import BadReceipt, read_receipt
from diversion.notify.sms import MAX_TEXT_LENGTH, build_text, notify_settings
from tests.unit.notify.test_messages import payload

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
NOTIFY_ID = "740e5834-3a29-46b4-9a6f-16142fde533a"


def test_a_reminder_text_says_when_where_and_whom_to_call_and_nothing_else():
    text = build_text("reminder", "+447700900982", payload())
    assert text == ("Reminder: Appointment, Tuesday 5 January 2027, 6pm to 7:30pm, at Civic "
                    "Centre, Room 2, 1 High Street, Leeds LS1 1AA. If you cannot attend, "
                    "call 0300 123 4567.")
    assert "Sam" not in text and "Taylor" not in text


def test_a_reminder_text_ends_with_the_participants_own_appointment_link():
    link = "https://appointments.example.gov.uk/appointments/WzEsMF0.abc"
    text = build_text("reminder", "+447700900982", payload(link=link))
    assert text.endswith(f"call 0300 123 4567. Your appointment: {link}")


def test_a_text_that_would_reveal_the_programme_is_refused():
    with pytest.raises(ValueError, match="reveal the programme"):
        build_text("reminder", "+447700900982", payload(summary="Police appointment"))


def test_a_text_goes_only_to_a_uk_mobile_number():
    for number in ("+442079460000", "+33612345678", "", "07700 900982"):
        with pytest.raises(ValueError, match="UK mobile"):
            build_text("reminder", number, payload())


def test_a_kind_with_no_text_written_for_it_cannot_go_by_text():
    with pytest.raises(ValueError, match="no text message is written for 'invitation'"):
        build_text("invitation", "+447700900982", payload())


def test_a_text_longer_than_notify_takes_is_refused():
    with pytest.raises(ValueError, match=str(MAX_TEXT_LENGTH)):
        build_text("reminder", "+447700900982", payload(location="Room " * 200))


@pytest.mark.parametrize(("phone", "consent", "allowed"), [
    ("+447700900982", True, True),
    ("+447700900982", False, False),
    ("+442079460000", True, False),  # a landline takes no texts
    (None, True, False),
])
def test_texts_may_go_only_with_consent_to_a_uk_mobile(phone, consent, allowed):
    assert may_text(phone, consent) is allowed


def settings(**changes) -> dict:
    return {"NOTIFY_API_KEY": f"diversion_live-{SERVICE_ID}-{SECRET}",
            "NOTIFY_SMS_TEMPLATE_ID": TEMPLATE_ID, "NOTIFY_BASE_URL": None, **changes}


def test_without_an_api_key_texts_are_off_and_with_one_notify_is_reached_at_its_own_address():
    assert notify_settings(settings(NOTIFY_API_KEY=None)) is None
    assert notify_settings(settings(NOTIFY_API_KEY="  ")) is None
    read = notify_settings(settings())
    assert read.base_url == "https://api.notifications.service.gov.uk"
    assert (read.template_id, read.timeout) == (TEMPLATE_ID, 30)


@pytest.mark.parametrize(("changes", "named"), [
    ({"NOTIFY_API_KEY": "secret"}, "NOTIFY_API_KEY"),
    ({"NOTIFY_API_KEY": f"name-{SERVICE_ID}{SECRET}x"}, "NOTIFY_API_KEY"),
    ({"NOTIFY_SMS_TEMPLATE_ID": None}, "NOTIFY_SMS_TEMPLATE_ID"),
    ({"NOTIFY_SMS_TEMPLATE_ID": "reminder"}, "NOTIFY_SMS_TEMPLATE_ID"),
    ({"NOTIFY_BASE_URL": "api.notifications.service.gov.uk"}, "NOTIFY_BASE_URL"),
    ({"NOTIFY_TIMEOUT_SECONDS": "soon"}, "NOTIFY_TIMEOUT_SECONDS"),
    ({"NOTIFY_TIMEOUT_SECONDS": "-1"}, "NOTIFY_TIMEOUT_SECONDS"),
])
def test_settings_that_cannot_work_are_named(changes, named):
    with pytest.raises(ValueError, match=named):
        notify_settings(settings(**changes))


def receipt(**changes) -> dict:
    return {"id": NOTIFY_ID, "reference": "12", "to": "+447700900982", "status": "delivered",
            "created_at": "2027-01-10T18:00:01.000000Z",
            "completed_at": "2027-01-10T18:00:09.000000Z",
            "sent_at": "2027-01-10T18:00:02.000000Z", "notification_type": "sms", **changes}


def test_a_receipt_is_read_with_the_time_notify_completed_it_in_utc():
    read = read_receipt(receipt())
    assert (read.notify_id, read.outbox_id, read.status) == (NOTIFY_ID, 12, "delivered")
    assert read.reported_at == datetime(2027, 1, 10, 18, 0, 9, tzinfo=UTC)
    assert read_receipt(receipt(completed_at=None)).reported_at == datetime(
        2027, 1, 10, 18, 0, 2, tzinfo=UTC)


def test_a_receipt_for_a_reference_that_is_not_one_of_our_ids_matches_nothing():
    for reference in (None, "", "abc", "-3", "99999999999", 12.5):
        assert read_receipt(receipt(reference=reference)).outbox_id is None


def test_a_receipt_for_an_email_is_not_ours_to_read():
    assert read_receipt(receipt(notification_type="email")) is None


@pytest.mark.parametrize(("body", "field"), [
    ([], "body"),
    (receipt(id="12"), "id"),
    (receipt(id=None), "id"),
    (receipt(status="read"), "status"),
    (receipt(status=None), "status"),
    (receipt(completed_at="Tuesday"), "completed_at"),
    (receipt(sent_at=5, completed_at=None), "sent_at"),
])
def test_a_receipt_that_cannot_be_read_names_the_field(body, field):
    with pytest.raises(BadReceipt) as raised:
        read_receipt(body)
    assert raised.value.field == field
