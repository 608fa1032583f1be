"""The fault suite's real parts: a django-q2 cluster in its own process group, killed with SIGKILL.

Tests here commit what they write (``transaction=True``) so the worker process sees it, queue
tasks through the ORM broker as production does (``Conf.SYNC`` off in this process), and wait
on the database for what the worker did.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
#: The worker may take its time on a loaded 2-core machine; a test that waits longer has failed.
WAIT_SECONDS = 90


class Worker:
    """``python -m django qcluster`` with the test's settings; ``kill()`` is ``kill -9`` of every process."""

    def __init__(self, settings, media_root, *, timeout, retry, log_path):
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
            "PYTHONPATH": str(ROOT),
            "EASYCARS_WORKER": json.dumps(
                {
                    "database": connection.settings_dict["NAME"],
                    "media_root": str(media_root),
                    "easycars": settings.WAGTAIL_EASYCARS,
                    "timeout": timeout,
                    "retry": retry,
                }
            ),
        }
        self.log_path = log_path
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 - the worker writes to it until it stops
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "django", "qcluster"],
            cwd=ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def kill(self):
        """SIGKILL the cluster and all its children at once, as a crashed machine would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def log(self):
        return Path(self.log_path).read_text(errors="replace")


def wait_for(condition, what, *, worker=None, seconds=WAIT_SECONDS, interval=0.1):
    """Poll ``condition()`` until it is truthy; fail with ``what`` (and the worker's log) otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    tail = worker.log()[-4000:] if worker is not None else ""
    what = what() if callable(what) else what
    pytest.fail(f"Timed out waiting for {what}.\n--- worker log ---\n{tail}")


@pytest.fixture
def queued_tasks(monkeypatch):
    """Tasks queued in this process go to the ORM broker, for the worker (not run inline)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def start_worker(settings, tmp_path, queued_tasks):
    """``start_worker(timeout=..., retry=...)`` starts a real cluster; all are stopped after the test."""
    if connection.vendor == "sqlite" and (
        not connection.settings_dict["NAME"] or "memory" in str(connection.settings_dict["NAME"])
    ):
        pytest.skip(
            "NOTICE: the fault suite needs a file-backed SQLite test database shared with the worker "
            "(EASYCARS_SQLITE_TEST_NAME, as `make test` sets) or PostgreSQL."
        )
    workers = []

    def start(*, timeout=30, retry=40):
        worker = Worker(
            settings,
            settings.MEDIA_ROOT,
            timeout=timeout,
            retry=retry,
            log_path=tmp_path / f"worker-{len(workers)}.log",
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:  # SIGKILL: a graceful stop waits for django-q2's timers, and proves nothing here
        worker.kill()
    # The broker's queue and any lease must not leak into the next test (the table is flushed anyway).
    connection.close()
