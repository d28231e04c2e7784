"""django-newsletter 1.2.1 as a site would run it: production settings (DEBUG off, cached
templates), PostgreSQL, Django's SMTP backend to the harness's sink."""

import os
from urllib.parse import parse_qsl, unquote, urlparse

_database = urlparse(os.environ["DJANGO_NEWSLETTER_DATABASE_URL"])

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sites",
    "django.contrib.sessions",
    "django.contrib.messages",
    "sorl.thumbnail",
    "newsletter",
]
ROOT_URLCONF = "urls"
SITE_ID = 1
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _database.path.lstrip("/"),
        "USER": unquote(_database.username or ""),
        "PASSWORD": unquote(_database.password or ""),
        "HOST": _database.hostname,
        "PORT": _database.port or 5432,
        "OPTIONS": dict(parse_qsl(_database.query)),
    }
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["SMTP_PORT"])
DEFAULT_FROM_EMAIL = "nyhedsbrev@example.org"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
NEWSLETTER_THUMBNAIL = "sorl-thumbnail"
NEWSLETTER_USE_HTTPS = True  # its default; unset, it warns on every message
