"""The real parts the harness starts: gunicorn, a Celery worker, an SMTP sink on loopback."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


class SmtpSink:
    """Accepts every message and counts it; nothing is kept."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.count = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.count += 1
        return "250 OK"

    def __enter__(self) -> "SmtpSink":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


class Process:
    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def peak_rss_mb(self) -> float:
        """The peak resident memory of the process that does the work: the pool's child when
        there is one (a Celery worker's parent only hands out tasks), else the process."""
        peaks = []
        for pid in self.children() or [self.process.pid]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return round(max(peaks, default=0.0), 1)


def gunicorn(env: dict, log_dir: Path, *, workers: int, name: str = "gunicorn") -> tuple[Process, int]:
    port = free_port()
    process = Process(
        name,
        [sys.executable, "-m", "gunicorn", "network_portal.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--timeout", "120"],
        env, log_dir,
    )  # fmt: skip
    wait_for(lambda: _answers(port), timeout=60, what=f"{name} on port {port}")
    return process, port


def celery_worker(env: dict, log_dir: Path, name: str = "worker") -> Process:
    log = log_dir / f"{name}-celery.log"
    log.unlink(missing_ok=True)
    process = Process(
        name,
        [sys.executable, "-m", "celery", "-A", "network_portal", "worker", "-l", "warning",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"bench-{name}@%h", "--logfile", str(log)],
        env, log_dir,
    )  # fmt: skip
    # Ready once its pool child exists and it consumes: ask it over the broker.
    wait_for(lambda: _worker_ready(env, f"bench-{name}"), timeout=60, what="Celery worker")
    return process


def _worker_ready(env: dict, name: str) -> bool:
    from network_portal.celery import app

    replies = app.control.ping(timeout=0.5) or []
    return any(name in reply_name for reply in replies for reply_name in reply)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"GET /bench/floor/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1")
    except OSError:
        return False


def environment(base: dict) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **base}
