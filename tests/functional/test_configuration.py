"""Starting the service: settings that every process shares, and what production refuses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

from diversion import create_app
from diversion.config import ROOT, development_secret_key
from tests.conftest import BASE_CONFIG


@pytest.fixture
def quiet_environment(monkeypatch):
    """No settings from the shell running the tests."""
    for name in ("SECRET_KEY", "DIVERSION_ENV", "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY",
                 "DATABASE_URL", "MIGRATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _app(tmp_path, **config):
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                       "INSTANCE_PATH": str(tmp_path / "instance"), **config})


# ---- the development secret ------------------------------------------------------


def test_every_development_process_signs_with_the_same_key_kept_in_instance(
    tmp_path, quiet_environment,
):
    first = _app(tmp_path, SECRET_KEY=None)
    second = _app(tmp_path, SECRET_KEY=None)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 64
    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]


def test_a_cookie_signed_by_one_development_worker_is_read_by_another(
    tmp_path, quiet_environment,
):
    first = _app(tmp_path, SECRET_KEY=None)
    second = _app(tmp_path, SECRET_KEY=None)
    client = first.test_client()
    with client.session_transaction() as session:
        session["seen"] = "yes"
    cookie = client.get_cookie("session").value
    other = second.test_client()
    other.set_cookie("session", cookie)
    with other.session_transaction() as session:
        assert session.get("seen") == "yes"


def test_workers_starting_together_agree_on_one_key(tmp_path):
    instance = tmp_path / "instance"
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = set(pool.map(development_secret_key, [instance] * 8))
    assert len(keys) == 1
    assert [p.name for p in instance.iterdir()] == ["secret_key"]


def test_production_refuses_to_start_without_a_secret_key_and_never_writes_one(
    tmp_path, quiet_environment,
):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _app(tmp_path, SECRET_KEY=None, ENV_NAME="production")
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_reads_its_secret_key_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIVERSION_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["SECRET_KEY"] == "k" * 64
    assert not (tmp_path / "instance" / "secret_key").exists()


# ---- throttling shared between workers -----------------------------------------------


def test_production_refuses_an_in_memory_throttle_for_several_workers(
    tmp_path, quiet_environment,
):
    with pytest.raises(RuntimeError, match="memory://"):
        _app(tmp_path, ENV_NAME="production", RATELIMIT_STORAGE_URI="memory://",
             WEB_CONCURRENCY=2)


def test_production_starts_with_a_shared_throttle_or_a_single_worker(
    tmp_path, quiet_environment,
):
    _app(tmp_path, ENV_NAME="production", RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
         WEB_CONCURRENCY=4)
    _app(tmp_path, ENV_NAME="production", RATELIMIT_STORAGE_URI="memory://",
         WEB_CONCURRENCY=1)


def test_gunicorn_refuses_two_production_workers_with_an_in_memory_throttle(tmp_path):
    environment = {**os.environ, "DIVERSION_ENV": "production", "SECRET_KEY": "k" * 64,
                   "RATELIMIT_STORAGE_URI": "memory://",
                   "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    environment.pop("WEB_CONCURRENCY", None)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    result = subprocess.run(
        [gunicorn, "-w", "2", "-b", "127.0.0.1:0", "wsgi:app"], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "memory://" in result.stdout + result.stderr
