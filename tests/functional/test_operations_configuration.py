"""Where mail goes and which links go out, in development, training and production."""

from __future__ import annotations

import pytest

from diversion import create_app
from diversion.config import from_environment
from tests.conftest import BASE_CONFIG


@pytest.fixture
def quiet_environment(monkeypatch):
    """No settings from the shell running the tests."""
    for name in ("SECRET_KEY", "DIVERSION_ENV", "DIVERSION_NOW", "PORT", "PUBLIC_BASE_URL",
                 "MAIL_SERVER", "MAIL_PORT", "MAIL_SINK", "MAIL_SINK_PORT", "MAIL_SINK_DIR",
                 "DATABASE_URL", "METRICS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_the_links_handed_out_point_at_the_port_served(quiet_environment, monkeypatch):
    assert from_environment()["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "8123")  # `PORT=8123 make run`
    assert from_environment()["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://appointments.example.gov.uk")
    assert from_environment()["PUBLIC_BASE_URL"] == "https://appointments.example.gov.uk"


def test_development_mail_goes_to_the_sink_and_production_mail_to_the_relay(
        quiet_environment, monkeypatch):
    development = from_environment()
    assert development["MAIL_SINK"] is True
    assert (development["MAIL_SERVER"], development["MAIL_PORT"]) == ("127.0.0.1", 8025)

    monkeypatch.setenv("DIVERSION_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    production = from_environment()
    assert production["MAIL_SINK"] is False
    assert production["MAIL_PORT"] == 25

    monkeypatch.setenv("MAIL_SINK", "on")  # a staging copy that must reach no one
    assert from_environment()["MAIL_PORT"] == 8025


def test_the_mail_kept_by_the_sink_lives_in_instance(quiet_environment, tmp_path):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["MAIL_SINK_DIR"] == str(tmp_path / "instance" / "mail")


@pytest.mark.parametrize("relay", [{"MAIL_SERVER": "smtp.example.gov.uk", "MAIL_PORT": 8025},
                                   {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 25},
                                   {"MAIL_SINK": False, "MAIL_PORT": 8025}])
def test_a_training_environment_never_starts_with_a_real_relay(quiet_environment, tmp_path,
                                                               relay):
    config = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
              "INSTANCE_PATH": str(tmp_path / "instance"), "ENV_NAME": "training",
              "MAIL_SINK": True, "MAIL_SERVER": "127.0.0.1", "MAIL_SINK_PORT": 8025, **relay}
    with pytest.raises(RuntimeError, match="only to the mail sink"):
        create_app(config)
