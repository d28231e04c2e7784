"""Is a SECRET_KEY fit for production? Read by settings.py at start-up, before Django is set up,
so plain Python only.

Whoever knows the key can sign anything the portal trusts (email-confirmation keys, newsletter
links, sessions), so a key that was copied from an example or typed by hand is as good as
public. The rules go beyond Django's own check (security.W009: 50 characters, 5 different):

- no placeholder: the old `.env.example` value, Django's `django-insecure-` prefix (startproject
  keys end up in repositories), and words such as "change-me" or "example";
- at least 50 characters, 10 of them different;
- at least 3 bits of Shannon entropy per character. Not 5: a random key of 50 to 70 characters
  uses each symbol of its alphabet only about once, so its measured entropy stays below the
  alphabet's (Django's own generator measures 4.3 to 5.3), and a hex key holds 4 bits at most;
- not a repetition ("k3y-" twelve times, the alphabet twice): such a key compresses to less
  than 80 % of its length, while random keys, hex included, do not compress at all.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter

MIN_LENGTH = 50
MIN_DISTINCT = 10
MIN_BITS_PER_CHARACTER = 3.0
MIN_COMPRESSED_RATIO = 0.8

# What `.env.example` used to carry; deployments copied it.
OLD_EXAMPLE_KEY = "change-me-to-60-random-characters-for-example-from-python-secrets-token-urlsafe"
# Compared with separators removed and in lower case, so "Change_Me" counts as "changeme".
PLACEHOLDER_WORDS = (
    "changeme",
    "changethis",
    "example",
    "secretkey",
    "djangoinsecure",
    "insecure",
    "placeholder",
    "notsecret",
    "yoursecret",
    "replaceme",
)
HOW_TO_MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def bits_per_character(key: str) -> float:
    """The Shannon entropy of the key's own character frequencies."""
    counts = Counter(key)
    return -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values()) if key else 0.0


def weakness(key: str) -> str:
    """Why the key must not be used in production, in one sentence; "" when it may."""
    folded = "".join(c for c in key.lower() if c.isalnum())
    if key == OLD_EXAMPLE_KEY:
        return "SECRET_KEY is the placeholder from .env.example."
    for word in PLACEHOLDER_WORDS:
        if word in folded:
            return f'SECRET_KEY looks like a placeholder (it contains "{word}").'
    if len(key) < MIN_LENGTH:
        return f"SECRET_KEY must be a real secret of at least {MIN_LENGTH} characters."
    if len(set(key)) < MIN_DISTINCT:
        return f"SECRET_KEY must use at least {MIN_DISTINCT} different characters."
    if bits_per_character(key) < MIN_BITS_PER_CHARACTER:
        return "SECRET_KEY is not random enough (too few different characters, too often repeated)."
    if len(zlib.compress(key.encode(), 9)) < MIN_COMPRESSED_RATIO * len(key.encode()):
        return "SECRET_KEY is not random enough (it repeats itself)."
    return ""
