"""Helpers shared by the tests of the emails about registrations and events."""

from django.core import mail

from events.services import registrations


def register_for(user, occasion, hooks, **kwargs):
    with hooks(execute=True):
        return registrations.register(user, occasion, **kwargs)


def only_mail_to(user):
    messages = [message for message in mail.outbox if message.to == [user.email]]
    assert len(messages) == 1, [m.subject for m in messages]
    return messages[0]
