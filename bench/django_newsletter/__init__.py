"""django-newsletter 1.2.1 measured beside the portal's newsletter, in the same rounds, with the
same subscribers and the same SMTP sink. It runs in an environment of its own (its Django and
packages are not the portal's): `make bench` builds .venv-django-newsletter from
requirements.txt here, and `--django-newsletter PYTHON` names its interpreter."""

import json
import os
import secrets
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "project"


def measure(python: str, subscribers: int, sink, database_url: str) -> float:
    """Messages per second of one submission to `subscribers`; every one reached the sink."""
    sink.count = 0
    try:
        completed = subprocess.run(
            [python, str(PROJECT / "send.py")],
            env={"PATH": os.environ["PATH"], "DJANGO_NEWSLETTER_DATABASE_URL": database_url,
                 "SMTP_PORT": str(sink.port), "SUBSCRIBERS": str(subscribers),
                 "SECRET_KEY": secrets.token_urlsafe(50)},
            capture_output=True, text=True, check=False, timeout=subscribers / 20 + 120,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"django-newsletter's send took longer than {error.timeout:.0f} s") from error
    if completed.returncode != 0:
        raise RuntimeError(f"django-newsletter's send failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if not result["sent"] or result["failures"] or sink.count != subscribers:
        raise RuntimeError(f"django-newsletter did not send every message: {result}, sink {sink.count}")
    return round(subscribers / result["seconds"], 1)
