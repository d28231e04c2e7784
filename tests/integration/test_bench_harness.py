"""The benchmark harness works: its quick mode runs every scenario against the real parts
(gunicorn, a Celery worker on Redis, an SMTP sink, PostgreSQL) and writes its results. No speed
is asserted here: speed is the harness's own report (bench/results), never a timed test."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from .conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (make system-deps)")
def test_the_quick_benchmark_runs_every_scenario_and_keeps_the_invariants(tmp_path, db):
    settings = connection.settings_dict
    database = (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:{settings['PORT']}"
        f"/{settings['NAME']}_bench"
    )
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--repeat", "1", "--database-url", database,
         "--redis-url", TEST_REDIS_URL, "--results", str(tmp_path)],
        # Not the test run's environment (no page cache, short connections): production's defaults.
        cwd=ROOT, env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
        capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    assert results["invariants_hold"]
    (round_,) = results["rounds"]
    for page in ["floor", "home", "event list", "event page, logged out", "event page, logged in"]:
        assert round_[page]["requests_per_second"] > 0 and round_[page]["non_2xx"] == 0, page
    rush = round_["registration_rush"]
    assert rush["statuses"] == {"302": results["size"]["rush_people"]}
    assert rush["invariants"]["confirmation_emails_written"] == results["size"]["rush_people"]
    assert rush["last_confirmation_sent_s"] > 0
    assert "The rush's confirmations, all sent by the worker" in (tmp_path / "latest.md").read_text()
    assert round_["counter_rush"]["counted"]
    assert results["scale_out"]["invariants"]["holds"]
    # The reminder job's queries do not grow with the registrations around the due ones.
    (reminders,) = results["reminders"]
    assert reminders["small"]["queries"] == reminders["large"]["queries"]
    # Nor do the Network page's with the registrations it counts.
    (network,) = results["network"]
    assert network["small"]["queries"] == network["large"]["queries"]
    assert "| Network page (admin)" in (tmp_path / "latest.md").read_text()
    assert all(run["worker_messages_per_second"] > 0 for run in results["newsletter"]["runs"])
    assert set(results["ratios"]) >= {"home", "event list", "registration rush", "newsletter"}
    assert "| event page, logged out |" in (tmp_path / "latest.md").read_text()
