"""Staff pages are English whatever the browser asks for; a participant's page is Welsh when
rendered for a participant who chose Welsh."""

from __future__ import annotations

from flask import render_template

from diversion import i18n

WELSH_BROWSER = {"Accept-Language": "cy, en;q=0.5"}


def test_a_staff_page_stays_english_for_a_browser_that_prefers_welsh(client, login_as):
    login_as("case_officer")
    page = client.get("/", headers=WELSH_BROWSER, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="en"' in html
    assert "Skip to main content" in html


def test_a_participant_page_for_a_welsh_speaker_is_welsh_and_says_so(app):
    with app.test_request_context("/appointments/x"):
        with i18n.speaking("cy"):
            html = render_template("participant/error.html", title="Apwyntiad", status=500)
        english = render_template("participant/error.html", title="Appointment", status=500)
    assert '<html lang="cy"' in html
    assert "Neidio i'r prif gynnwys" in html and "Skip to main content" not in html
    assert '<html lang="en"' in english
    assert "Skip to main content" in english

