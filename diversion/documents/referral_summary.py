"""The referral summary as a printable PDF, from the data services.referrals assembles."""

from __future__ import annotations

from diversion.documents.pdf import OfficialDocument
from diversion.domain.vocabulary import Channel

# Column widths (relative) of each table, chosen for A4 portrait.
MODULE_COLUMNS = (34, 22, 30, 44, 50)
WEEK_COLUMNS = (38, 30, 112)
FLAG_COLUMNS = (36, 24, 92, 28)
DECISION_COLUMNS = (34, 30, 52, 64)
NOTICE_COLUMNS = (23, 36, 38, 37, 46)


def render(data: dict) -> bytes:
    """Lay the summary out: the service's own record first, then the agreement, the
    modules, flags, decisions and proof of notice."""
    e, p, a = data["enrolment"], data["participant"], data["agreement"]
    pdf = OfficialDocument(title="Referral summary",
                           footer=f"Referral summary, case {e['case_reference']}")
    pdf.add_page()
    pdf.title_block("Referral summary", [
        f"Case {e['case_reference']} ({e['force']}). Enrolment {e['id']}: "
        f"{e['status_text'].lower()}.",
        f"Participant: {p['text']}.",
        f"Programme: {a['programme']}. Started {a['start_date_text']}; core deadline "
        f"{a['core_deadline_text']}.",
    ])
    _service_record(pdf, data["service_record"])
    pdf.heading("The agreement")
    pdf.bullets(a["rules_text"])
    _modules(pdf, data["modules"])
    _flags_and_decisions(pdf, data)
    _notice(pdf, data["messages"], data["warning_letters"])
    pdf.paragraph(f"Produced {data['produced_at_text']} by {data['produced_by']}.", size=9)
    return bytes(pdf.output())


def _service_record(pdf: OfficialDocument, record: dict) -> None:
    pdf.heading("What the service did to the participant's chances")
    pdf.bullets(record["headline"])
    for title, items in (("Sessions the service cancelled", record["cancelled"]),
                         ("Sessions the service moved", record["moved"])):
        if items:
            pdf.heading(title, size=11)
            pdf.bullets([item["text"] for item in items])
    pdf.heading("Weeks in which no session with a free place fitted their rules", size=11)
    if record["weeks_without_a_place"]:
        pdf.grid(["Week beginning", "Still to attend", "Why nothing could be booked"],
                 [[w["week_start_text"], _sentence(w["needed"]), _sentence(w["why"])]
                  for w in record["weeks_without_a_place"]], WEEK_COLUMNS)
    else:
        pdf.paragraph("None.")
    pdf.paragraph(record["weeks_method"], size=8, style="I")
    for title, items in (("Excused absences", record["excused_absences"]),
                         ("Extensions", record["extensions"])):
        pdf.heading(title, size=11)
        pdf.bullets([item["text"] for item in items] or ["None."])


def _modules(pdf: OfficialDocument, modules: list[dict]) -> None:
    pdf.heading("Bookings and attendance, module by module", keep=45)
    for module in modules:
        pdf.heading(module["name"], size=11, keep=25 if module["bookings"] else 8)
        if not module["bookings"]:
            pdf.paragraph("Never booked.")
            continue
        pdf.grid(["Session", "Venue", "Booked", "Changes", "What happened"],
                 [[b["session"], b["venue"], b["booked"], "\n".join(b["changes"]) or "-",
                   b["outcome"]] for b in module["bookings"]], MODULE_COLUMNS)


def _flags_and_decisions(pdf: OfficialDocument, data: dict) -> None:
    pdf.heading("Flags raised")
    if data["flags"]:
        pdf.grid(["Raised", "Flag", "What happened", "Now"],
                 [[f["raised_at_text"], f["kind_text"], f["detail"], f["status_text"]]
                  for f in data["flags"]], FLAG_COLUMNS)
    else:
        pdf.paragraph("None.")
    pdf.heading("Decisions")
    if data["decisions"]:
        pdf.grid(["When", "Decision", "By", "Reason"],
                 [[d["decided_at_text"], d["decision_text"], d["decided_by"], d["reason"]]
                  for d in data["decisions"]], DECISION_COLUMNS)
    else:
        pdf.paragraph("None.")


def _notice(pdf: OfficialDocument, messages: list[dict], letters: list[dict]) -> None:
    pdf.heading("Proof of notice: every message to the participant")
    if messages:
        pdf.grid(["Message", "About", "Channel and recipient", "Queued", "Sent or failed"],
                 [[m["kind_text"], m["about"], f"{m['channel']} to {m['recipient']}",
                   m["queued_at_text"], m["outcome_text"]] for m in messages],
                 NOTICE_COLUMNS, size=7.5,
                 notes=[f"{_reference_label(m)}: {m['message_id_text']}" for m in messages])
    else:
        pdf.paragraph("No message was sent to the participant.")
    pdf.heading("Warning letters handed over in person", size=11, keep=10)
    pdf.bullets([letter["text"] for letter in letters] or ["None."])


def _reference_label(message: dict) -> str:
    # A text message's proof is the id GOV.UK Notify gave it; an email's, its Message-ID.
    return "GOV.UK Notify id" if message["channel_code"] == Channel.SMS else "Message-ID"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
