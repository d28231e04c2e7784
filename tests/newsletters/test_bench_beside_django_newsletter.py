"""The benchmark measures django-newsletter 1.2.1 beside the portal's newsletter: a rate counts
only when every message reached the sink, and the report shows the portal's worker over it
against the issue's target of twice. django-newsletter itself runs in an environment of its own
(`make bench` builds it), so a stand-in plays its part here."""

import copy
import json
import sys
import textwrap
from pathlib import Path

import pytest

from bench import django_newsletter, report
from bench.processes import SmtpSink
from bench.run import django_newsletter_database

ROOT = Path(__file__).resolve().parents[2]

STAND_IN = """
import json, os, smtplib, time
subscribers = int(os.environ["SUBSCRIBERS"])
started = time.perf_counter()
for n in range(subscribers - {missing}):
    with smtplib.SMTP("127.0.0.1", int(os.environ["SMTP_PORT"])) as smtp:
        smtp.sendmail("nyhedsbrev@example.org", [f"reader{{n}}@bench.example"], b"Subject: Nyt\\r\\n\\r\\n")
print("migrated")
print(json.dumps({{"subscribers": subscribers, "seconds": time.perf_counter() - started, "sent": True,
                  "failures": 0}}))
"""


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    def write(missing: int) -> None:
        (tmp_path / "send.py").write_text(textwrap.dedent(STAND_IN.format(missing=missing)))

    monkeypatch.setattr(django_newsletter, "PROJECT", tmp_path)
    return write


def test_the_rate_of_a_send_that_reached_the_sink_is_measured(stand_in):
    stand_in(missing=0)
    with SmtpSink() as sink:
        rate = django_newsletter.measure(sys.executable, 5, sink, "postgres://unused/x")
    assert rate > 0 and sink.count == 5


def test_a_send_that_lost_a_message_is_no_measurement(stand_in):
    stand_in(missing=1)
    with SmtpSink() as sink, pytest.raises(RuntimeError, match="did not send every message"):
        django_newsletter.measure(sys.executable, 5, sink, "postgres://unused/x")


def _results(**beside) -> dict:
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    results = copy.deepcopy(results)
    small = results["newsletter"]["small"]
    for run in results["newsletter"]["runs"]:
        for key in ("django_newsletter_messages_per_second", "over_django_newsletter"):
            run.pop(key, None)
        if run["subscribers"] == small and beside:
            run["django_newsletter_messages_per_second"] = beside["rate"]
            run["over_django_newsletter"] = round(run["worker_messages_per_second"] / beside["rate"], 3)
    results["ratios"] = report.ratios(results)
    return results


def test_the_report_shows_the_worker_over_django_newsletter_against_twice():
    results = _results(rate=300.0)
    spread = results["ratios"]["newsletter over django-newsletter"]
    assert spread["target"] == 2.0
    worker = [run["worker_messages_per_second"] for run in results["newsletter"]["runs"][:3]]
    assert spread["median"] == round(sorted(worker)[1] / 300.0, 3)
    table = report.markdown(results)
    assert "against django-newsletter 1.2.1" in table and "| django-newsletter 300 (300–300) msg/s |" in table


def test_a_run_without_django_newsletter_reports_no_comparison():
    results = _results()
    assert "newsletter over django-newsletter" not in results["ratios"]
    assert "django-newsletter" not in report.markdown(results)


def test_a_round_django_newsletter_failed_in_is_reported_and_the_run_stands():
    results = _results()
    results["newsletter"]["runs"][0]["django_newsletter_error"] = "django-newsletter's send failed:\nboom"
    table = report.markdown(results)
    assert "django-newsletter could not be measured in 1 round(s): boom" in table
    assert "| newsletter through the worker, 20,000 subscribers |" in table


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgres://portal:portal@127.0.0.1:5432/portal_bench",
         "postgres://portal:portal@127.0.0.1:5432/portal_bench_django_newsletter"),
        ("postgres://p@db/portal_bench?sslmode=disable", "postgres://p@db/portal_bench_django_newsletter?sslmode=disable"),
    ],
)  # fmt: skip
def test_django_newsletter_has_a_database_of_its_own_beside_the_benchmarks(url, expected):
    assert django_newsletter_database(url) == expected
