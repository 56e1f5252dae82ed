"""Under gunicorn, /metrics adds up every worker's request timings (multiprocess mode)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from diversion.config import ROOT
from tests.integration.notify.conftest import free_port


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def _healthz_answered(text: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "diversion_http_request_duration_seconds_count"
               and sample.labels.get("endpoint") == "health.healthz"
               and sample.labels.get("status") == "200")


def test_every_workers_requests_are_counted_by_whichever_worker_answers_the_scrape(
        app, tmp_path):
    port, folder = free_port(), tmp_path / "metrics"
    folder.mkdir()
    (folder / "histogram_1.db").write_bytes(b"")  # left by an earlier run of the server
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": "gunicorn-test-secret", "PROMETHEUS_MULTIPROC_DIR": str(folder),
           "DIVERSION_ENV": "development", "MAIL_SINK": "off"}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        before = _healthz_answered(_get(f"{base}/metrics").decode())
        # A sync worker reads a request whole before it takes another: one kept busy
        # with half a request leaves the other worker every request until it ends.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as held:
            held.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            for _ in range(20):
                _get(f"{base}/healthz")
            held.sendall(b"Connection: close\r\n\r\n")
            assert held.recv(100).startswith(b"HTTP/1.1 200")
        assert _healthz_answered(_get(f"{base}/metrics").decode()) == before + 21
        # One file per worker, both of which answered; the earlier run's is gone.
        assert len(list(folder.glob("histogram_*.db"))) == 2
        assert not (folder / "histogram_1.db").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
