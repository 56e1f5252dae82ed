"""``GET /metrics`` for Prometheus, and the request timings it reports.

Under gunicorn each worker keeps its own timings: with PROMETHEUS_MULTIPROC_DIR set
(gunicorn.conf.py sets it), prometheus-client writes them to files in that directory
and a scrape adds every worker's up. The outbox, the jobs and the flags are read
from the database at scrape time, so they are the same whichever worker answers,
and count the scheduler's work although it runs in a process of its own.

Reachable with ``Authorization: Bearer $METRICS_TOKEN``, or from loopback when no
proxy relayed the request; anyone else gets the same 404 as for any unknown path.
"""

from __future__ import annotations

import hmac
import os

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from diversion import clock

LOOPBACK = {"127.0.0.1", "::1"}
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# Labelled by Flask endpoint, never by path: a path can hold a token or an id.
REQUEST_SECONDS = Histogram(
    "diversion_http_request_duration_seconds",
    "Time to answer a request, by Flask endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def register(app: Flask) -> None:
    """Time every request, and serve /metrics."""
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", metrics)


def _start_timer() -> None:
    g.metrics_started = clock.monotonic()


def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(request.endpoint or "unmatched", method,
                               str(response.status_code)).observe(clock.monotonic() - started)
    return response


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(given, f"Bearer {token}".encode()):
            return True
    return request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


def metrics():
    """Answer Prometheus: request timings, outbox, jobs and flags (token or loopback only)."""
    if not _allowed():
        abort(404)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)
        timings = generate_latest(workers)
    else:
        timings = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(_DatabaseCollector())
    return Response(timings + generate_latest(database), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


class _DatabaseCollector:
    """The service's state, read when collected."""

    def describe(self):
        return []

    def collect(self):
        from diversion.jobs.schedule import JOBS
        from diversion.services.monitoring import readings

        reading = readings(JOBS)
        due = GaugeMetricFamily("diversion_outbox_due_messages",
                                "Messages due and not yet sent, by channel.", labels=["channel"])
        age = GaugeMetricFamily(
            "diversion_outbox_oldest_due_age_seconds",
            "How long the oldest message due and not yet sent has waited, by channel.",
            labels=["channel"])
        failed = CounterMetricFamily(
            "diversion_delivery_failures",
            "Messages given up on (failed for good), by channel.", labels=["channel"])
        for channel, outbox in sorted(reading.outbox.items()):
            due.add_metric([channel], outbox.due)
            waited = (reading.now - outbox.oldest_due_at).total_seconds() \
                if outbox.oldest_due_at else 0.0
            age.add_metric([channel], max(waited, 0.0))
            failed.add_metric([channel], outbox.failed)
        yield from (due, age, failed)

        success = GaugeMetricFamily(
            "diversion_job_last_success_timestamp_seconds",
            "When each job's latest successful run finished (Unix time).", labels=["job"])
        took = GaugeMetricFamily(
            "diversion_job_last_success_duration_seconds",
            "How long each job's latest successful run took.", labels=["job"])
        for job, run in sorted(reading.jobs.items()):
            success.add_metric([job], run.finished_at.timestamp())
            took.add_metric([job], run.seconds)
        yield from (success, took)
        sweep = reading.jobs.get("sweep")
        if sweep is not None:
            yield GaugeMetricFamily("diversion_sweep_duration_seconds",
                                    "How long the latest successful compliance sweep took.",
                                    value=sweep.seconds)

        flags = CounterMetricFamily("diversion_flags_raised",
                                    "Flags raised since the service began, by kind.",
                                    labels=["kind"])
        for kind, count in sorted(reading.flags.items()):
            flags.add_metric([kind], count)
        yield flags
