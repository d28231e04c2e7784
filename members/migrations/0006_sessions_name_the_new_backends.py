"""Sessions signed in before the portal's backends (members.backends) name Django's or allauth's
backend; Django signs out a session whose backend is not in AUTHENTICATION_BACKENDS. This renames
them, so no one is signed out. A session signed in by the old code after this ran (while the
new code is being deployed) is signed out once."""

from importlib import import_module

from django.conf import settings
from django.db import migrations
from django.utils import timezone

RENAMED = {
    "django.contrib.auth.backends.ModelBackend": "members.backends.MemberBackend",
    "allauth.account.auth_backends.AuthenticationBackend": "members.backends.AccountBackend",
}
_BACKEND = "_auth_user_backend"  # django.contrib.auth.BACKEND_SESSION_KEY
_CHUNK = 1000


def rename_backends(apps, schema_editor, renamed=RENAMED) -> int:
    """Returns how many sessions were renamed."""
    session_model = apps.get_model("sessions", "Session")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    sessions = session_model.objects.using(schema_editor.connection.alias)
    changed, count = [], 0
    for session in sessions.filter(expire_date__gt=timezone.now()).iterator(chunk_size=_CHUNK):
        data = store.decode(session.session_data)  # {} when it does not verify: left as it is
        if data.get(_BACKEND) in renamed:
            data[_BACKEND] = renamed[data[_BACKEND]]
            session.session_data = store.encode(data)
            changed.append(session)
        if len(changed) == _CHUNK:
            count += sessions.bulk_update(changed, ["session_data"])
            changed = []
    return count + (sessions.bulk_update(changed, ["session_data"]) if changed else 0)


def restore_backends(apps, schema_editor) -> int:
    return rename_backends(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_organization_region"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(rename_backends, restore_backends)]
