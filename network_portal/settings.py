"""Settings for the green-mobility network portal.

Every value comes from the environment (or an optional `.env` file). The defaults are the
embedded setup a newcomer needs: SQLite, Celery tasks run inline, email printed to the console.
Production switches to real parts by setting DATABASE_URL, CELERY_BROKER_URL and EMAIL_URL, and
refuses to start when a value it cannot do without is missing.
"""

from pathlib import Path

import environ
import xstatic.pkg.bootstrap
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from network_portal.email_url import email_settings
from network_portal.secret_key import HOW_TO_MAKE_ONE as HOW_TO_MAKE_A_SECRET_KEY
from network_portal.secret_key import weakness as secret_key_weakness

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# Off unless asked for: a deployment that forgets the variable must not show debug pages.
DEBUG = env.bool("DEBUG", default=False)

# Only a development machine may run on a known key; anything else must bring its own.
_DEV_SECRET_KEY = "dev-only-not-secret-green-mobility-portal"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (50+ random characters) in production, "
            "or DEBUG=true for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (_weakness := secret_key_weakness(SECRET_KEY)):
    # A placeholder or guessable key lets anyone forge confirmation keys and signed links.
    raise ImproperlyConfigured(f"{_weakness} Generate one with: {HOW_TO_MAKE_A_SECRET_KEY}")
# Former keys, comma-separated: signed links and encrypted outbox secrets made with them still
# open after a rotation.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused form (expired page, blocked cookies) gets the portal's 403 page, not Django's English one.
CSRF_FAILURE_VIEW = "network_portal.errors.csrf_failure"

NETWORK_NAME = env.str("NETWORK_NAME", default="Green Mobility Network")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "network_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    # The event page's nested inlines (occasions with their day parts); see events.admin_event_page.
    "nested_admin",
    "mail",
    "members",
    "events",
    "newsletters",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the session or the database: a NUL in the request is a 400, not a 500.
    "network_portal.middleware.RefuseNullCharactersMiddleware",
    # The site (feeds, "view on site", account emails) as SITE_URL and NETWORK_NAME say now.
    "network_portal.middleware.SiteFromSettingsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "members.middleware.PreferredLanguageMiddleware",
    # After the member's preference: a page opened from an email speaks the email's language.
    "network_portal.middleware.EmailLinkLanguageMiddleware",
    "members.middleware.ProfileCompletionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "network_portal.urls"
WSGI_APPLICATION = "network_portal.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "network_portal.context_processors.portal",
                "network_portal.page_cache.csrf_placeholder",
            ],
            "libraries": {"chrome": "network_portal.chrome"},
        },
    },
]

# A shared cache keeps rate limits (sign-in, newsletter sign-up) across processes; the default
# keeps them per process, which is enough for one development server.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # Django's, with a write in one statement (network_portal/cache.py).
    CACHES["default"]["BACKEND"] = "network_portal.cache.DatabaseCache"
if CACHES["default"]["BACKEND"].endswith(("DatabaseCache", "LocMemCache")):
    # Sign-in's rate limits count here. Django culls a third of such a cache's entries once it
    # holds more than MAX_ENTRIES (300 unless set), which a busy hour of sign-ins reaches, and a
    # culled counter lets its attempts start again; expired entries go first.
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": 100_000, **CACHES["default"].get("OPTIONS", {})}
# Public pages for visitors without a session are served from that cache for at most this many
# seconds, and anew as soon as their content changes (network_portal.page_cache); 0 turns it off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=300)
# Requests per client to the open events API (events/api.py), as ninja's throttles read a rate:
# a number, "/" and a period (s, m, h, d).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="120/m")
# The pages get a cache of their own beside the default (in the database: a table of its own), so
# that storing many pages culls pages only, never the rate limits' counters.
CACHES["pages"] = {**CACHES["default"], "KEY_PREFIX": "pages"}
if CACHES["default"]["BACKEND"].endswith(("DatabaseCache", "LocMemCache")):
    CACHES["pages"]["LOCATION"] = f"{CACHES['default'].get('LOCATION', '')}_pages"
    CACHES["pages"]["OPTIONS"] = {**CACHES["default"].get("OPTIONS", {}), "MAX_ENTRIES": 10_000}

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Outside development a connection is kept for a minute (a new one costs about 5 ms per request)
# and checked before each request reuses it, so a restarted database costs no failed request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.User"
# Django's and allauth's, reading the signed-in member with a prepared statement.
AUTHENTICATION_BACKENDS = [
    "members.backends.MemberBackend",
    "members.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth (65.x setting names): email is the login, verified before use, and a one-time
# code by email as an alternative to the password. Rate limits keep allauth's defaults.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "members.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{NETWORK_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Languages: English, Danish and Swedish, with the default chosen per deployment.
LANGUAGES = [("en", _("English")), ("da", _("Danish")), ("sv", _("Swedish"))]
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}.")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Copenhagen")
if TIME_ZONE not in ("Europe/Copenhagen", "Europe/Stockholm"):
    raise ImproperlyConfigured("TIME_ZONE must be Europe/Copenhagen or Europe/Stockholm.")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Bootstrap ships inside a Python package (xstatic), so no CDN is ever asked for it.
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded documents (events.uploads): the largest accepted, in megabytes.
DOCUMENT_MAX_UPLOAD_MB = env.int("DOCUMENT_MAX_UPLOAD_MB", default=25)

# Email: printed to the console unless EMAIL_URL names a real server (smtp://user:pw@host:587).
EMAIL_CONFIG = email_settings(env.str("EMAIL_URL", default="consolemail://"), BASE_DIR)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: without a broker the tasks run inline, so the embedded setup needs no Redis.
_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = _BROKER_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not _BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# JSON only: a pickle payload from a compromised broker would run code in the worker.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Acknowledge a task only when it has finished, and hand it back when its worker dies, so a
# crash never drops work. Tasks are written to be run twice (the outbox claims rows under a lock).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Celery's Django fixup closes the database connections around every task unless this is set;
# then only every so many tasks. Between, CONN_MAX_AGE and the health check govern them as in a
# request (network_portal/celery.py).
CELERY_DB_REUSE_MAX = 1000
# One task at a time per process: a long task does not hold others hostage in its prefetch.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# No task runs longer than 5 minutes (the soft limit lets it clean up first).
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Redis hands an unacknowledged task to another worker after the visibility timeout; it must be
# longer than the longest task, or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request gives up fast when Redis is down: the outbox row is already
# committed and the sweep publishes it later, so the member need not wait.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
# The periodic jobs. Exactly one `celery beat` may run: two would publish every job twice.
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "mail.tasks.sweep_outbox", "schedule": 60.0},
    "outbox-retention": {
        "task": "mail.tasks.remove_old_message_bodies",
        "schedule": 24 * 60 * 60.0,
    },
    "event-reminders": {"task": "events.tasks.send_due_reminders", "schedule": 15 * 60.0},
    "event-follow-ups": {"task": "events.tasks.send_follow_ups", "schedule": 15 * 60.0},
    "promote-waitlists": {"task": "events.tasks.promote_waitlists", "schedule": 15 * 60.0},
    "newsletter-tick": {"task": "newsletters.tasks.newsletter_tick", "schedule": 60.0},
    "newsletter-housekeeping": {"task": "newsletters.tasks.newsletter_housekeeping", "schedule": 15 * 60.0},
    "erase-expired-needs": {"task": "events.tasks.erase_expired_needs", "schedule": 24 * 60 * 60.0},
    "delete-unconfirmed-accounts": {
        "task": "members.tasks.delete_unconfirmed_accounts",
        "schedule": 24 * 60 * 60.0,
    },
}

# Outbox: attempts before a message is marked failed, and after how long a claim of a worker
# that died is given up (longer than CELERY_TASK_TIME_LIMIT, so a live worker keeps its claim).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_CLAIM_TIMEOUT = env.int("OUTBOX_CLAIM_TIMEOUT", default=900)
# The sweep (every minute) publishes a pending message again this long after it was handed to
# the broker: a task the broker lost (flushed, restarted without persistence) is never
# redelivered, while a task a worker took and died with is Redis's to redeliver (after the
# visibility timeout) and the claim recovery's to take back sooner. So this only has to outlast
# a healthy queue's wait and the sweep's minute; a copy published for a task still queued costs
# one claim that finds the row taken.
OUTBOX_REPUBLISH_AFTER = env.int("OUTBOX_REPUBLISH_AFTER", default=120)
# Both email engines (transactional messages and newsletter deliveries, mail package):
# the back-off after a temporary failure (4xx, a dropped connection) doubles from the base to
# the maximum; when the SMTP server refuses the portal itself (login 535, sender, TLS), all
# sending pauses this long and then tries again; after a failed publish a process leaves
# messages for the sweep this long instead of waiting for the broker's timeouts each time.
MAIL_RETRY_BASE_SECONDS = env.int("MAIL_RETRY_BASE_SECONDS", default=60)
MAIL_RETRY_MAX_SECONDS = env.int("MAIL_RETRY_MAX_SECONDS", default=3600)
MAIL_PAUSE_SECONDS = env.int("MAIL_PAUSE_SECONDS", default=300)
MAIL_BROKER_RETRY_SECONDS = env.int("MAIL_BROKER_RETRY_SECONDS", default=30)
# A send task waits while at least MAIL_BURST_MESSAGES transactional messages were written in the
# last MAIL_BURST_SECONDS (a registration rush), at most until its message is MAIL_BURST_MAX_WAIT
# seconds old (far below CELERY_TASK_SOFT_TIME_LIMIT); messages with a secret never wait
# (mail/bursts.py). 0 messages turns it off.
MAIL_BURST_MESSAGES = env.int("MAIL_BURST_MESSAGES", default=20)
MAIL_BURST_SECONDS = env.int("MAIL_BURST_SECONDS", default=1)
MAIL_BURST_MAX_WAIT = env.int("MAIL_BURST_MAX_WAIT", default=30)
# Seconds a message carrying a secret (sign-in code, reset or confirmation link) may wait
# unsent before it is withdrawn and its body removed. An hour outlasts allauth's sign-in code
# (3 minutes) and sign-in session (15 minutes), so no code that still works is withdrawn, and
# rides out a short SMTP outage; a reset or confirmation link (valid 3 days) that arrives later
# than that is stale, and the member has asked for a new one by then.
OUTBOX_SECRET_TTL = env.int("OUTBOX_SECRET_TTL", default=3600)
# Days after which the bodies and attachments of sent, failed and withdrawn messages are
# removed; the row (recipient, subject, status, dates) stays as the record.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=90)
# Seconds before an SMTP connection attempt or reply is given up (then retried later).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# Newsletters: a global send rate for providers with limits (0 = as fast as the server takes
# them), hard bounces before an address stops getting mail, days an unconfirmed sign-up is kept,
# and after how long a delivery claimed by a worker that died is sent again.
NEWSLETTER_RATE_PER_MINUTE = env.int("NEWSLETTER_RATE_PER_MINUTE", default=0)
NEWSLETTER_BATCH_SIZE = env.int("NEWSLETTER_BATCH_SIZE", default=200)
NEWSLETTER_BOUNCE_LIMIT = env.int("NEWSLETTER_BOUNCE_LIMIT", default=3)
NEWSLETTER_PENDING_DAYS = env.int("NEWSLETTER_PENDING_DAYS", default=14)
NEWSLETTER_CLAIM_TIMEOUT = env.int("NEWSLETTER_CLAIM_TIMEOUT", default=900)
# Claims of one delivery before it is failed (a message that kills its worker, a server that
# answers 4xx for days), and how long an edition with due deliveries may go without a claim
# before the tick takes its chain of batches for stopped and publishes a batch.
NEWSLETTER_MAX_ATTEMPTS = env.int("NEWSLETTER_MAX_ATTEMPTS", default=5)
NEWSLETTER_IDLE_SECONDS = env.int("NEWSLETTER_IDLE_SECONDS", default=120)
NEWSLETTER_UNSUBSCRIBE_EMAIL = env.str("NEWSLETTER_UNSUBSCRIBE_EMAIL", default="")
# Largest subscriber CSV an import reads (bytes).
NEWSLETTER_IMPORT_MAX_BYTES = env.int("NEWSLETTER_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# Key of the hashes of erased addresses (newsletters/suppression.py). Its own setting, not
# SECRET_KEY, so that rotating SECRET_KEY does not let erased people be imported again. Set it
# once and keep it; to change it, move the old one to the fallbacks (comma-separated).
NEWSLETTER_SUPPRESSION_KEY = env.str("NEWSLETTER_SUPPRESSION_KEY", default="")
NEWSLETTER_SUPPRESSION_KEY_FALLBACKS = env.list("NEWSLETTER_SUPPRESSION_KEY_FALLBACKS", default=[])

# Privacy (GDPR): who members write to about their data, and how long data is kept. Dietary and
# accessibility needs are special-category data: erased this many days after the event ends.
# An account whose email address was never confirmed (and that never signed in) is deleted
# after this many days: the confirmation link is long expired by then, and signing up again
# takes a minute.
PRIVACY_CONTACT_EMAIL = env.str("PRIVACY_CONTACT_EMAIL", default=DEFAULT_FROM_EMAIL)
RETENTION_NEEDS_DAYS = env.int("RETENTION_NEEDS_DAYS", default=30)
RETENTION_UNCONFIRMED_ACCOUNT_DAYS = env.int("RETENTION_UNCONFIRMED_ACCOUNT_DAYS", default=14)

# The address the accessibility statement (/accessibility/) names for feedback, e.g. a report of
# content someone cannot use or a request for it in another form (EU directive 2016/2102).
ACCESSIBILITY_CONTACT_EMAIL = env.str("ACCESSIBILITY_CONTACT_EMAIL", default=DEFAULT_FROM_EMAIL)

# Registrations: changes (register, cancel, move) a member may make in a window of seconds, each
# counted for the member and for a coordinator acting for them; organizers are not limited.
# Every change emails the member a calendar file, so a loop must not flood a mailbox. 0 = off.
REGISTRATION_RATE_LIMIT = env.int("REGISTRATION_RATE_LIMIT", default=10)
REGISTRATION_RATE_WINDOW = env.int("REGISTRATION_RATE_WINDOW", default=600)

# Security. HTTPS is assumed outside development; set HTTPS=false only behind a trusted
# TLS-terminating proxy that you configure below, or for local testing.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Rate limits (sign-in, newsletter sign-up) count per client address; behind proxies the client
# is read from X-Forwarded-For, trusting as many hops as there are proxies of our own.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if BEHIND_PROXY else 0)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read with one prepared statement (network_portal/sessions.py).
SESSION_ENGINE = "network_portal.sessions"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: every script and stylesheet comes from the portal itself and no
# page carries inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_without_traceback": {"()": "network_portal.log_filters.RefusalsWithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["refusals_without_traceback"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's default config gives "django" its own console handler (with DEBUG on) and lets the
    # record propagate to the root's too: every warning printed twice. Only the root prints.
    "loggers": {"django": {"handlers": [], "level": env.str("LOG_LEVEL", default="INFO"), "propagate": True}},
}
if CELERY_TASK_ALWAYS_EAGER:
    # Inline tasks would log every success in the web process's console.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}
