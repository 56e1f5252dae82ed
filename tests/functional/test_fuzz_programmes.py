"""Generated programme settings: never a 5xx, and every refusal in the error shape.

SQLite only, as in test_fuzz.py: the request handling is the same on both databases.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Api, make_token
from tests.functional.test_fuzz import FUZZ, JSON, _mutated, _no_server_error

VALID = {
    "name": "Online safety course", "core_modules": 5, "session_minutes": 90,
    "core_months": 4, "follow_up_months": 8, "follow_up_window_days": 14,
    "min_days_between_sessions": 7, "reminder_hours": 48, "timezone": "Europe/London",
    "holiday_region": "GB-ENG", "modules_in_order": True, "invite_title": "Appointment",
    "invite_title_cy": "Apwyntiad", "self_service_cutoff_hours": 24, "self_service_moves": 2,
}


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    import shutil

    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "fuzz.sqlite3"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def test_generated_programme_bodies_never_cause_a_server_error(client):
    admin = Api(client, make_token(role="admin", force=None))

    @FUZZ
    @given(body=st.one_of(JSON, _mutated(VALID)))
    def run(body):
        _no_server_error(admin.patch("/programmes/1", body))
        _no_server_error(admin.post("/programmes", body))

    run()
