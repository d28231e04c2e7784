"""The benchmark harness: the portal under gunicorn with production settings, a real Celery
worker on Redis and an SMTP sink on loopback, against floors measured in the same run.

    .venv/bin/python -m bench.run [--quick] [--repeat 3] [--database-url postgres://…/portal_bench]
                                  [--django-newsletter .venv-django-newsletter/bin/python]

The database is dropped and created again (use one of the benchmark's own), and so is its
namesake with the suffix _django_newsletter when django-newsletter is measured beside. Every
scenario is repeated, interleaved with the others, and each ratio is taken within one round.
Results go to bench/results/latest.json and latest.md; the harness exits non-zero if an
invariant breaks.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data, django_newsletter, load, processes, report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small data and short runs: proves the harness works"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://portal:portal@127.0.0.1:5432/portal_bench"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--django-newsletter",
        metavar="PYTHON",
        help="an interpreter with bench/django_newsletter/requirements.txt installed: django-newsletter "
        "1.2.1 sends the same newsletter beside the portal's in every round",
    )
    args = parser.parse_args(argv)
    if not load.wrk_available():
        sys.exit("wrk is not installed: `make system-deps` installs it (Debian package wrk).")
    size = data.QUICK if args.quick else data.FULL
    _fresh_database(args.database_url)
    if args.django_newsletter:
        _fresh_database(django_newsletter_database(args.database_url))
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    with processes.SmtpSink() as sink:
        env = _environment(args, sink.port)
        os.environ.update(env)
        import django

        django.setup()
        _prepare(size)
        results = Harness(args, size, env, sink, log_dir).run()
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.results / "latest.md").write_text(report.markdown(results))
    print(report.markdown(results))
    print(f"logs: {log_dir}")
    return 0 if results["invariants_hold"] else 1


def _fresh_database(url: str) -> None:
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password,
        dbname="postgres",
    )  # fmt: skip
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def django_newsletter_database(url: str) -> str:
    parts = urlparse(url)
    return parts._replace(path=f"{parts.path}_django_newsletter").geturl()


def _environment(args, smtp_port: int) -> dict:
    return processes.environment({
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "HTTPS": "false",  # loopback without TLS; every other production setting applies
        "DATABASE_URL": args.database_url,
        "CACHE_URL": "dbcache://portal_cache",
        "CELERY_BROKER_URL": args.redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SITE_URL": "http://127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })  # fmt: skip


def _prepare(size: data.Size) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_organizations", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


class Harness:
    def __init__(self, args, size: data.Size, env: dict, sink, log_dir: Path):
        self.args, self.size, self.env, self.sink, self.log_dir = args, size, env, sink, log_dir
        self.seconds = 2 if args.quick else 10
        self.connections = 4 if args.quick else 16

    def run(self) -> dict:
        from bench import scenarios

        started = time.time()
        # The data grows in two steps; the queries per page are counted at both.
        progress("creating the data")
        data.create(self.size, share=(0.0, 0.1))
        small = self._queries()
        data.create(self.size, share=(0.1, 1.0))
        full = self._queries()
        rush_members = scenarios.rush_members(self.size)
        self.rush_sessions = scenarios.sessions_for(rush_members)
        worker = processes.celery_worker(self.env, self.log_dir)
        web, self.port = processes.gunicorn(self.env, self.log_dir, workers=2)
        rounds = []
        try:
            for round_ in range(self.args.repeat):
                progress(f"round {round_ + 1} of {self.args.repeat}: pages and rushes")
                rounds.append(self._round(round_))
            progress("the rush through two gunicorn instances")
            scale_out = self._scale_out()
        finally:
            web.stop()
            worker.stop()
        progress("reminders")
        reminders = self._reminders()
        progress("the Network page")
        network = self._network()
        _discard_pending_mail(self.args.redis_url)
        progress("newsletter")
        newsletter = self._newsletter()
        results = {
            "date": time.strftime("%Y-%m-%d", time.gmtime(started)),
            "machine": report.machine(),
            "quick": self.args.quick,
            "size": self.size.__dict__,
            "queries_per_page": {"at 10 % of the data": small, "at all of it": full},
            "rounds": rounds,
            "scale_out": scale_out,
            "reminders": reminders,
            "network": network,
            "newsletter": newsletter,
            "minutes": round((time.time() - started) / 60, 1),
        }
        results["ratios"] = report.ratios(results)
        results["invariants_hold"] = all(r["registration_rush"]["invariants"]["holds"] for r in rounds) and (
            scale_out["invariants"]["holds"] and all(r["counter_rush"]["counted"] for r in rounds)
        )
        return results

    def _paths(self) -> dict[str, str]:
        from events.models import Event, Registration

        upcoming = Event.objects.filter(slug__startswith="bench-", starts_at__gt=time_now())
        upcoming = upcoming.order_by("starts_at")
        self.event = upcoming.first()
        self.member = Registration.objects.filter(event=self.event).select_related("user").first().user
        page = self.event.get_absolute_url()
        return {"floor": "/bench/floor/", "home": "/", "event list": "/events/",
                "event page, logged out": page, "event page, logged in": page}  # fmt: skip

    def _queries(self) -> dict[str, int]:
        from bench import scenarios

        paths = self._paths()
        return scenarios.queries_per_page(paths, self.member)

    def _round(self, round_: int) -> dict:
        from bench import scenarios

        paths = self._paths()
        member_cookie = scenarios.cookie(scenarios.sessions_for([self.member])[0])
        result = {}
        for name, path in paths.items():
            cookie = member_cookie if name.endswith("logged in") else ""
            result[name] = load.pages(
                self.port, path, seconds=self.seconds, connections=self.connections, cookie=cookie
            )
        scenarios.counter_reset()
        counter = load.rush([(self.port, "/bench/counter/", {})], self.rush_sessions)
        counter["counted"] = scenarios.counter_value() == len(self.rush_sessions)
        result["counter_rush"] = counter
        result["registration_rush"] = self._registration_rush(f"r{round_}", [self.port])
        return result

    def _registration_rush(self, name: str, ports: list[int]) -> dict:
        from bench import scenarios

        event = scenarios.rush_event(self.size, name)
        path = f"{event.get_absolute_url()}register/"
        targets = [(port, path, form) for form in scenarios.rush_forms(event) for port in ports]
        began = time_now()
        rush = load.rush(targets, self.rush_sessions)
        rush["invariants"] = scenarios.invariants(event, len(self.rush_sessions), rush["statuses"])
        rush["republished_by_the_sweep"] = scenarios.outbox_drained(timeout=300)
        rush["last_confirmation_sent_s"] = scenarios.last_confirmation_sent(event, began)
        return rush

    def _scale_out(self) -> dict:
        """The same rush through two gunicorn instances on different ports, one database."""
        second, port = processes.gunicorn(self.env, self.log_dir, workers=2, name="gunicorn-2")
        try:
            return self._registration_rush("two-instances", [self.port, port])
        finally:
            second.stop()

    def _reminders(self) -> list[dict]:
        from bench import reminders

        small, large = (300, 3000) if self.args.quick else (1000, 100_000)
        due = 50 if self.args.quick else 500
        runs = []
        for _ in range(self.args.repeat):
            pair = {"small": reminders.measure(small, due), "large": reminders.measure(large, due)}
            pair["ratio"] = round(pair["large"]["seconds"] / pair["small"]["seconds"], 2)
            runs.append(pair)
        return runs

    def _network(self) -> list[dict]:
        from bench import network

        small, large = (300, 3000) if self.args.quick else (1000, 100_000)
        return [
            {"small": network.measure(small), "large": network.measure(large)}
            for _ in range(self.args.repeat)
        ]

    def _newsletter(self) -> dict:
        from bench import scenarios

        small, large = (200, 1000) if self.args.quick else (20_000, 100_000)
        runs = []
        for subscribers in [small] * self.args.repeat + [large]:
            worker = processes.celery_worker(self.env, self.log_dir, name="newsletter-worker")
            try:
                run = scenarios.newsletter(subscribers, self.sink)
                run["worker_peak_rss_mb"] = worker.peak_rss_mb()
            finally:
                worker.stop()
            run["ratio"] = round(run["worker_messages_per_second"] / run["bare_loop_messages_per_second"], 3)
            if self.args.django_newsletter and subscribers == small:
                try:
                    rate = django_newsletter.measure(
                        self.args.django_newsletter, subscribers, self.sink,
                        django_newsletter_database(self.args.database_url),
                    )  # fmt: skip
                except RuntimeError as error:
                    # The portal's figures of the whole run stand without the comparison.
                    progress(f"django-newsletter not measured: {error}")
                    run["django_newsletter_error"] = str(error)[-1000:]
                else:
                    run["django_newsletter_messages_per_second"] = rate
                    run["over_django_newsletter"] = round(run["worker_messages_per_second"] / rate, 3)
            runs.append(run)
        return {"runs": runs, "small": small, "large": large}


def _discard_pending_mail(redis_url: str) -> None:
    """The reminders' emails are not part of what the newsletter run measures."""
    import redis

    from mail.models import OutgoingMessage

    OutgoingMessage.objects.pending().delete()
    redis.Redis.from_url(redis_url).flushdb()


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", file=sys.stderr, flush=True)


def time_now():
    from django.utils import timezone

    return timezone.now()


if __name__ == "__main__":
    sys.exit(main())
