"""The referral summary a prosecutor reads: the service's own record first, in words."""

from __future__ import annotations

import re
import subprocess
from html import unescape

from diversion import clock
from diversion.extensions import db
from diversion.models import AuditEvent
from tests.conftest import Api, case_body, make_token
from tests.functional.conftest import VENUE


def _summary(referred) -> dict:
    response = referred["officer"].get(f"/enrolments/{referred['enrolment']['id']}"
                                       "/referral-summary")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _pdf_pages(referred) -> list[str]:
    response = referred["officer"].get(
        f"/enrolments/{referred['enrolment']['id']}/referral-summary",
        headers={"Accept": "application/pdf"})
    assert response.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=response.data,
                          capture_output=True, check=True).stdout.decode()
    return [page for page in text.split("\f") if page.strip()]


# ---- what the service did, first ---------------------------------------------------------

def test_the_summary_opens_with_the_session_the_service_cancelled_and_the_one_it_moved(
    referred,
):
    record = _summary(referred)["service_record"]
    [cancelled] = record["cancelled"]
    assert cancelled["session_cancelled"] is True
    assert cancelled["text"] == (
        "Module 2 on Tuesday 12 January 2027 at 6pm: the service cancelled the session on "
        "Friday 8 January 2027 at 10am (Venue flooded). Booked again on Monday 18 January "
        "2027 at 10am, into the session on Thursday 28 January 2027 at 6pm.")
    [moved] = record["moved"]
    assert moved["text"] == (
        "Module 2 moved by the service from Tuesday 26 January 2027 at 6pm to Thursday 28 "
        "January 2027 at 6pm; an update was sent to the participant on Wednesday 20 January "
        "2027 at 10am.")
    assert record["headline"][0] == (
        "The service cancelled one session the participant was booked into and moved one "
        "booked session.")


def test_the_weeks_with_nothing_to_book_are_listed_with_the_reason(referred):
    record = _summary(referred)["service_record"]
    weeks = record["weeks_without_a_place"]
    assert [w["week_start"] for w in weeks] == ["2027-01-11", "2027-01-18", "2027-02-01"]
    assert weeks[0]["text"] == (
        "Week beginning Monday 11 January 2027: Every session of module 2 was cancelled by the "
        "service; no session of modules 3 to 5 was held.")
    assert weeks[0]["by_module"][0] == {"module": 2, "refusals": ["session_cancelled"]}
    assert weeks[1]["why"] == "no session of modules 2 to 5 was held"
    assert record["weeks_checked"] == {"count": 6, "from": "2027-01-04", "to": "2027-02-08"}
    assert record["headline"][1] == ("In three of the six weeks checked, no session with a free "
                                     "place fitted the participant's rules.")
    assert "as recorded when this summary was produced" in record["weeks_method"]


def test_the_excused_absence_and_the_extension_are_part_of_the_services_record(referred):
    record = _summary(referred)["service_record"]
    assert [a["text"] for a in record["excused_absences"]] == [
        "Module 2 on Thursday 28 January 2027 at 6pm: absence excused: In hospital"]
    [extension] = record["extensions"]
    assert extension["text"] == (
        "The core deadline was extended by 14 days, from Tuesday 4 May 2027 to Tuesday 18 May "
        "2027, on Friday 29 January 2027 at 9am: Hospital stay")
    assert record["headline"][2:] == ["One absence excused.", "One extension granted."]


# ---- the record in words ------------------------------------------------------------------

def test_the_json_keeps_its_keys_and_adds_the_words(referred):
    data = _summary(referred)
    assert set(data) >= {"enrolment", "participant", "agreement", "bookings", "messages",
                         "flags", "decisions", "extensions", "produced_at", "produced_by"}
    first = data["bookings"][0]
    assert set(first) >= {"id", "module", "session_id", "starts_at", "venue", "status",
                          "reason", "cancel_reason", "cancel_requested_by", "booked_at",
                          "attendance_history"}
    assert first["starts_at"] == "2027-01-05T18:00:00+00:00"
    assert first["starts_at_text"] == "Tuesday 5 January 2027 at 6pm"
    assert [b["status_text"] for b in data["bookings"]] == [
        "Attended", "Cancelled", "Absent (excused)", "Absent (unexcused)"]
    assert [d["decision_text"] for d in data["decisions"]] == [
        "Continue", "Refer back to prosecution"]
    assert data["enrolment"]["status_text"] == "Referred"
    assert data["agreement"]["rules_text"][1].startswith(
        "Attend all 5 by the core deadline, Tuesday 18 May 2027 (extended from Tuesday 4 May")


def test_each_module_has_its_own_table_of_bookings_changes_and_outcomes(referred):
    modules = _summary(referred)["modules"]
    assert [m["name"] for m in modules] == [
        "Module 1", "Module 2", "Module 3", "Module 4", "Module 5"]
    assert [b["outcome"] for b in modules[0]["bookings"]] == ["Attended"]
    outcomes = [b["outcome"] for b in modules[1]["bookings"]]
    assert outcomes[0].startswith("Cancelled on Friday 8 January 2027 at 10am")
    assert outcomes[1:] == ["Absent (excused): In hospital", "Absent (unexcused)"]
    assert modules[1]["bookings"][1]["changes"] == [
        "Moved by the service from Tuesday 26 January 2027 at 6pm to Thursday 28 January "
        "2027 at 6pm; an update was sent to the participant on Wednesday 20 January 2027 at "
        "10am."]
    assert modules[2]["bookings"] == []


def test_proof_of_notice_lists_every_message_with_its_fate_and_message_id(referred):
    messages = _summary(referred)["messages"]
    kinds = [m["kind"] for m in messages]
    assert kinds.count("invitation") == 4 and "update" in kinds and "cancellation" in kinds
    sent = [m for m in messages if m["status"] == "sent"]
    assert sent and all(re.fullmatch(r"<[0-9a-f]{32}@diversion\.invalid>", m["message_id"])
                        for m in sent)
    assert all(m["outcome_text"].startswith("Sent ") for m in sent)
    [failed] = [m for m in messages if m["kind"] == "cancellation" and m["module"] == 2
                and m["status"] == "failed"] or [None]
    assert failed is not None
    assert failed["never_delivered"] is True
    assert failed["outcome_text"] == "Failed Friday 8 January 2027 at 10am: never delivered"
    assert failed["failed_at"] == "2027-01-08T10:00:00+00:00"
    assert {(m["channel"], m["recipient"]) for m in messages} == {("Email", "sam@example.com")}
    assert messages[0]["about"] == "Module 1, Tuesday 5 January 2027 at 6pm"
    assert messages[0]["queued_at_text"] == "Monday 4 January 2027 at 9am"


def test_producing_the_summary_is_recorded_as_a_disclosure(referred, app):
    _summary(referred)
    with app.app_context():
        disclosed = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "disclose", AuditEvent.object_type == "referral_summary")).all()
    assert [e.detail["form"] for e in disclosed] == ["json"]


# ---- the PDF, read back ---------------------------------------------------------------------

def test_every_pdf_page_is_marked_and_numbered(referred):
    pages = _pdf_pages(referred)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, number
        assert f"Page {number} of {len(pages)}" in page


def test_the_pdf_reads_in_words_and_starts_with_the_services_record(referred):
    text = " ".join(" ".join(_pdf_pages(referred)).split())
    assert text.index("What the service did to the participant's chances") < text.index(
        "The agreement")
    for words in ("the service cancelled the session on Friday 8 January 2027 at 10am",
                  "Tuesday 5 January 2027 at 6pm", "Absent (unexcused)",
                  "Absent (excused): In hospital", "Refer back to prosecution",
                  "Missed module 2 without excuse", "never delivered", "Monday 11 January 2027",
                  "Every session of module 2 was cancelled by the service"):
        assert words in text, words
    for code in ("absent_unexcused", "+00:00", "T18:00", "pending"):
        assert code not in text


def test_the_pdf_gives_each_sent_messages_message_id(referred):
    ids = [m["message_id"] for m in _summary(referred)["messages"] if m["message_id"]]
    text = "".join(_pdf_pages(referred))
    assert ids and all(f"Message-ID: {message_id}" in text for message_id in ids)
    assert "Message-ID: none, as it was never sent" in text


# ---- the page --------------------------------------------------------------------------------

def _page_text(client, referred, login_as) -> str:
    login_as("case_officer", email="reader@example.gov.uk")
    response = client.get(f"/cases/enrolments/{referred['enrolment']['id']}/referral-summary")
    assert response.status_code == 200
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_the_page_puts_the_services_record_first_in_words(client, referred, login_as):
    page = _page_text(client, referred, login_as)
    assert page.index("What the service did") < page.index("The agreement")
    assert "Module 2 moved by the service from Tuesday 26 January 2027 at 6pm" in page
    assert "Failed Friday 8 January 2027 at 10am: never delivered" in page
    assert "Absent (unexcused)" in page
    assert "absent_unexcused" not in page and "+00:00" not in page


# ---- a week is judged on every session it holds ------------------------------------------

def _week_after_module_one(client, *, last_one_full: bool) -> list[dict]:
    """Module 1 on Friday 8 January; in the next week three module 2 sessions too soon
    after it, all with free places, and one on Friday 15 January that fits."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = Api(client, make_token(role="case_officer"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", VENUE).get_json()

    def publish(module, starts_at, capacity=10):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    case = officer.post("/cases", case_body(reference="MET/78")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    first = publish(1, "2027-01-08T18:00:00")
    for day in (11, 12, 13):
        publish(2, f"2027-01-{day}T18:00:00")
    fits = publish(2, "2027-01-15T18:00:00", capacity=1)
    booked = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                              {"session_id": first["id"]}).get_json()
    if last_one_full:
        other = officer.post("/cases", case_body(reference="MET/79")).get_json()
        someone = officer.post(f"/cases/{other['id']}/enrolment",
                               {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
        for session in (first, fits):
            taken = coordinator.post(f"/enrolments/{someone['id']}/bookings",
                                     {"session_id": session["id"]})
            assert taken.status_code == 201, taken.get_json()
    clock.set_now("2027-01-08T19:45:00+00:00")
    assert coordinator.put(f"/bookings/{booked['id']}/attendance",
                           {"outcome": "attended"}).status_code == 200
    clock.set_now("2027-01-19T09:00:00+00:00")
    response = officer.get(f"/enrolments/{enrolment['id']}/referral-summary")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["service_record"]["weeks_without_a_place"]


def test_a_week_with_one_session_that_fits_is_not_a_week_without_a_place(client):
    weeks = _week_after_module_one(client, last_one_full=False)
    assert "2027-01-11" not in [w["week_start"] for w in weeks]


def test_a_week_whose_every_session_is_refused_gives_every_reason(client):
    weeks = _week_after_module_one(client, last_one_full=True)
    [week] = [w for w in weeks if w["week_start"] == "2027-01-11"]
    assert week["by_module"][0] == {"module": 2, "refusals": ["session_full", "spacing"]}
