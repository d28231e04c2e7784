"""The bodies of messages that carry a secret (sign-in codes, password-reset and confirmation
links) are stored encrypted, so that nobody who can read the database or the admin (an
organizer, a backup, a query-string probe) can read them. Only the send task decrypts them, when
it builds the email.

Fernet (AES-128-CBC with HMAC-SHA256) with a key derived from SECRET_KEY for this one purpose.
Each key in SECRET_KEY_FALLBACKS still decrypts, so a message queued just before a key rotation
is still sent; new messages are always encrypted with SECRET_KEY.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

# Marks an encrypted value; a body without it is plain (a message from before encryption, or
# a body already replaced by a notice that it was removed).
_PREFIX = "fernet:"
# Separates this key from every other use of SECRET_KEY (sessions, signed links, tokens).
_PURPOSE = "mail.secrets"


class UnreadableSecret(Exception):
    """The body was encrypted with a SECRET_KEY that is no longer configured."""


def _fernet_key(secret: str) -> bytes:
    digest = salted_hmac(_PURPOSE, "message-body", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def is_sealed(value: str) -> bool:
    return value.startswith(_PREFIX)


def seal(plaintext: str) -> str:
    """The text encrypted with the current SECRET_KEY, as text for a TextField."""
    return _PREFIX + _fernet().encrypt(plaintext.encode()).decode("ascii")


def unseal(value: str) -> str:
    """The plain text of a sealed value; a value that was never sealed is returned as it is."""
    if not is_sealed(value):
        return value
    try:
        return _fernet().decrypt(value.removeprefix(_PREFIX).encode("ascii")).decode()
    except InvalidToken as exc:
        raise UnreadableSecret(
            "The message was encrypted with a SECRET_KEY that is no longer configured "
            "(keep the old key in SECRET_KEY_FALLBACKS until queued messages are sent)."
        ) from exc
