"""Production web server settings: ``gunicorn wsgi:app`` (this file is read by default)."""

import multiprocessing
import os
import tempfile
from pathlib import Path

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": %(b)s, '
    '"duration_us": %(D)s, "request_id": "%({x-request-id}o)s"}'
)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Each worker writes its request timings to files here and /metrics adds them all up
# (prometheus-client's multiprocess mode). Set before any worker imports the app.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="diversion-metrics-")


def on_starting(server):
    """Start the metrics afresh; refuse, in production, a throttle store each worker keeps."""
    from diversion.config import limiter_store_problem

    # Timings a previous run of the server left behind are not this run's.
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()
    if os.environ.get("DIVERSION_ENV") != "production":
        return
    # server.cfg.workers includes a -w given on the command line.
    problem = limiter_store_problem(
        os.environ.get("RATELIMIT_STORAGE_URI", "memory://"), server.cfg.workers)
    if problem:
        raise SystemExit(f"Refusing to start: {problem}")


def post_worker_init(worker):
    """Once a worker has loaded the app, keep the garbage collector off it."""
    from diversion.memory import freeze_long_lived

    freeze_long_lived()


def child_exit(server, worker):
    """Keep a worker's counts after it exits, but stop reporting it as a live process."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
