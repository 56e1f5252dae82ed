"""An application whose compliance sweep never finishes: a process that dies mid-sweep.

``flask --app "tests.integration.jobs.stalling:create_app()" run-job sweep`` claims
the sweep's slot and holds the job's lock until it is killed.
"""

from __future__ import annotations

import time

from flask import Flask


def create_app() -> Flask:
    from diversion import create_app as create
    from diversion.services import compliance

    def stall():
        time.sleep(3600)

    compliance.sweep = stall
    return create()
