"""The referral summary in Chromium: accessible on screen, marked and numbered in print."""

from __future__ import annotations

import subprocess

from tests.conftest import PASSWORD, make_user
from tests.functional.browser.conftest import ARTIFACTS


def test_the_referral_summary_reads_first_what_the_service_did_and_prints_marked_and_numbered(
    open_tab, referred,
):
    reader = make_user(role="case_officer", force="MET", email="reader@example.gov.uk")
    tab = open_tab("referral-summary")
    page = tab.page
    tab.goto("/")
    page.get_by_label("Email address").fill(reader.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    tab.goto(f"/cases/enrolments/{referred['enrolment']['id']}/referral-summary")
    tab.check("Referral summary")
    main = page.get_by_role("main").inner_text()
    assert main.index("What the service did to the participant's chances") < main.index(
        "The agreement")
    assert "Every session of module 2 was cancelled by the service" in main

    printed = page.pdf(format="A4")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "referral-summary-printed.pdf").write_bytes(printed)
    text = subprocess.run(["pdftotext", "-", "-"], input=printed, capture_output=True,
                          check=True).stdout.decode()
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 2
    for number, words in enumerate(pages, start=1):
        assert "OFFICIAL-SENSITIVE" in words, number
        assert f"Page {number} of {len(pages)}" in words, number
    assert "Sign out" not in text
