"""The portal's one settings module, with the environment a test run needs.

Tests run with DEBUG off (as Django's runner forces anyway), so they need a real-looking
secret and plain HTTP for the test client and the live server.
"""

import os
import secrets

# A random key per run: the settings refuse placeholders and repeated characters, as in production.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("DEBUG", "false")
# Each test's data is rolled back but a cache is not: pages are cached only in the tests that
# say so (tests/network_portal/test_page_cache.py). Connections close as in development, so the
# live-server threads of browser tests leave none open on the test database.
os.environ.setdefault("PAGE_CACHE_SECONDS", "0")
os.environ.setdefault("CONN_MAX_AGE", "0")

from network_portal.settings import *  # noqa: E402,F403

# The manifest storage needs collectstatic; tests serve assets straight from the finders.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = True
# Serve assets from the finders, as under runserver; there is no collectstatic in tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
