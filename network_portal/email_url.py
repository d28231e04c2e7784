"""EMAIL_URL read into Django's email settings (django-environ), with the folder of
`filemail://` kept as written: django-environ drops the leading slash of
`filemail:///var/mail`, so mail went to `var/mail` under whatever folder the process ran in."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"
PORTAL_SMTP = "mail.backends.EmailBackend"  # Django's, with less work per message


def email_settings(url: str, base_dir: Path) -> dict:
    """Django's EMAIL_* settings for `url`. `filemail:///abs/folder` writes to /abs/folder;
    `filemail://folder` to `folder` under the project (base_dir), wherever the process runs."""
    config = environ.Env.email_url_config(url)
    if config["EMAIL_BACKEND"] == DJANGO_SMTP:
        config["EMAIL_BACKEND"] = PORTAL_SMTP
    if urlsplit(url).scheme == "filemail":
        parts = urlsplit(url)
        folder = unquote(parts.netloc + parts.path)
        if not folder.strip("/"):
            raise ImproperlyConfigured(
                "EMAIL_URL=filemail:// needs a folder: filemail:///absolute/folder, or "
                "filemail://folder for one under the project."
            )
        config["EMAIL_FILE_PATH"] = str(Path(folder) if folder.startswith("/") else base_dir / folder)
        config["EMAIL_HOST"] = None
    return config
