"""Real parts for the background-job tests: a Celery worker process on Redis, an SMTP server on
loopback, and the test database on PostgreSQL shared by both."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import kombu.pools
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _real_parts_available(request):
    if "tests/integration/" not in str(request.node.fspath):
        return
    if connection.vendor != "postgresql":
        pytest.skip("a worker process shares the test database only on PostgreSQL (set DATABASE_URL)")
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: no Redis for a real worker")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Keeps what arrived. To let a test kill the sender at a moment it knows, it can hold a
    transaction at RCPT, or hold the `hold_data_at`-th message after its DATA: before accepting
    it (nothing kept: the sender's kill loses nothing the server had) or after accepting it
    (kept, as a server that delivers a message whose 250 the sender never read: the one window
    in which a message can go twice)."""

    HOLD = 30  # seconds; longer than any test waits before the kill

    def __init__(self):
        self.messages: list[bytes] = []
        self.rcpt_started = threading.Event()
        self.hold_rcpt = 0.0
        self.hold_data_at = 0
        self.hold_data_accepted = False
        self.data_held = threading.Event()
        self.data_count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_started.set()
        if self.hold_rcpt:
            await asyncio.sleep(self.hold_rcpt)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        if self.data_count == self.hold_data_at:
            if self.hold_data_accepted:
                self.messages.append(envelope.content)
            self.data_held.set()
            await asyncio.sleep(self.HOLD)
            return "421 Closing"  # to a sender that is dead by now; nothing more is kept
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def redis_db():
    """A Redis database of its own for the test, emptied before and after."""
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()


@contextmanager
def publishing_to(broker_url: str, settings):
    """The test process publishes to a real broker instead of running tasks inline."""
    from network_portal.celery import app

    def reset_pools():
        # Connections and producers are pooled per broker URL; start afresh on each switch.
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = broker_url
    reset_pools()
    try:
        yield
    finally:
        app.conf.task_always_eager = True
        app.conf.broker_url = "memory://localhost/"
        reset_pools()


class Worker:
    def __init__(self, broker_url: str, smtp_port: int, tmp_path: Path, name: str):
        db = connection.settings_dict
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "DJANGO_SETTINGS_MODULE": "network_portal.settings",
            "DEBUG": "false",
            # The test process's own key: what one signs or encrypts, the other must read.
            "SECRET_KEY": django_settings.SECRET_KEY,
            "ALLOWED_HOSTS": "localhost",
            "HTTPS": "false",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "SITE_URL": "http://testserver",
        }
        self.log = tmp_path / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "network_portal", "worker", "-l", "info",
             "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"test-{self.log.stem}@%h", "--logfile", str(self.log)],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(
            lambda: self.log.exists() and "ready." in self.log.read_text(), timeout=60, what="worker ready"
        )
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no clean shutdown, nothing acknowledged."""
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        for pid in [self.process.pid, *map(int, children.split())]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path):
    workers = []

    def start(broker_url: str, smtp_port: int, **env: str) -> Worker:
        """`env`: settings of the worker's own, as environment variables."""
        worker = Worker(broker_url, smtp_port, tmp_path, f"worker{len(workers)}")
        worker.env.update(env)
        workers.append(worker.start())
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for(condition, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of the test's own, which the test can stop and start again."""
    port = free_port()
    servers = []

    def start():
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        servers.append(process)
        wait_for(lambda: _accepts(port), timeout=10, what="redis")
        return process

    def stop():
        servers[-1].terminate()
        servers[-1].wait(timeout=10)

    yield f"redis://127.0.0.1:{port}/0", start, stop
    for process in servers:
        if process.poll() is None:
            process.terminate()


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
