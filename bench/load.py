"""Load on loopback: wrk for pages (a C client, so the client is not what is measured), and a rush
of distinct logged-in members posting once each, all at the same moment."""

import http.client
import re
import shutil
import statistics
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

CSRF_SECRET = "benchbenchbenchbenchbenchbench32"  # 32 characters: Django's unmasked form


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def pages(port: int, path: str, *, seconds: int, connections: int, cookie: str = "") -> dict:
    """Requests per second for one page under `connections` keep-alive connections."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if cookie:
        argv += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(
        [*argv, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return {
        "requests_per_second": round(rate, 1),
        "p50_ms": _wrk_ms(out, "50%"),
        "p99_ms": _wrk_ms(out, "99%"),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def _wrk_ms(out: str, percentile: str) -> float:
    match = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not match:
        return 0.0
    value, unit = float(match.group(1)), match.group(2)
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 1)


def rush(targets: list[tuple[int, str, dict]], session_keys: list[str]) -> dict:
    """Each member posts once, all released at the same instant. `targets` are (port, path,
    form) triples taken in turn; member i posts targets[i % len(targets)]."""
    gate = threading.Event()
    results: list[tuple[int, float]] = [(0, 0.0)] * len(session_keys)

    def post(index: int) -> None:
        port, path, form = targets[index % len(targets)]
        body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": CSRF_SECRET})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"sessionid={session_keys[index]}; csrftoken={CSRF_SECRET}",
            "Host": "127.0.0.1",
        }
        gate.wait()
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            connection.request("POST", path, body=body, headers=headers)
            status = connection.getresponse().status
            connection.close()
        except OSError:
            status = 0  # not answered
        results[index] = (status, time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=len(session_keys)) as pool:
        futures = [pool.submit(post, index) for index in range(len(session_keys))]
        time.sleep(0.5)  # every thread waiting at the gate
        started = time.perf_counter()
        gate.set()
        for future in futures:
            future.result()
        seconds = time.perf_counter() - started
    latencies = sorted(latency for _, latency in results)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "attempts": len(session_keys),
        "attempts_per_second": round(len(session_keys) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000),
        "statuses": statuses,
    }
