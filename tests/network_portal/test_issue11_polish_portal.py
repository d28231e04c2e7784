"""Issue 11, defect 11: the server log prints a warning once and a refused request (403) without
a traceback; the account pages say what the network is; names sort as each language does."""

import copy
import logging
import logging.config

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.log import DEFAULT_LOGGING

from network_portal.collation import sort_key


@pytest.fixture
def server_log(capsys, settings):
    """The log as `runserver` with DEBUG on configures it: Django's defaults, then the portal's
    LOGGING. Call it in the test: the handlers take the stderr of the moment, which capsys
    reads during the test (not the setup's, closed by then)."""
    settings.DEBUG = True

    def configure():
        logging.config.dictConfig(copy.deepcopy(DEFAULT_LOGGING))
        logging.config.dictConfig(copy.deepcopy(settings.LOGGING))
        return lambda: capsys.readouterr().err

    yield configure
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})


def test_a_warning_is_printed_once(server_log):
    """One handler on the way from django.request to the console: Django's default gives the
    "django" logger a console handler of its own, and the record then reached the root's too."""
    server_log()
    logger, handlers = logging.getLogger("django.request"), []
    while logger is not None:
        handlers += [
            handler for handler in logger.handlers if not type(handler).__module__.startswith("_pytest")
        ]
        logger = logger.parent if logger.propagate else None
    assert [type(handler).__name__ for handler in handlers] == ["StreamHandler"]


def test_a_forbidden_request_is_one_line_without_traceback(server_log):
    read = server_log()
    logger = logging.getLogger("django.request")
    try:
        raise PermissionError("not yours")
    except PermissionError:
        logger.warning("Forbidden (Permission denied): /x/", exc_info=True, extra={"status_code": 403})
        logger.error("Internal Server Error: /y/", exc_info=True, extra={"status_code": 500})
    lines = read()
    forbidden, _, error = lines.partition("Internal Server Error")
    assert "Forbidden (Permission denied): /x/" in forbidden and "Traceback" not in forbidden
    assert "Traceback" in error  # a 500 keeps it


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "da", "sv"])
def test_sign_up_sign_in_and_verification_sent_say_what_the_network_is(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for name in ("account_signup", "account_login", "account_email_verification_sent"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert 'class="network-intro' in response.text, name
        assert settings.NETWORK_NAME in response.text.split('class="network-intro', 1)[1], name


def test_swedish_and_danish_letters_sort_after_z_in_their_own_order():
    names = ["Örebro", "Ängelholm", "Åre", "Zinkgruvan", "Ödeshög", "Arvika"]
    assert sorted(names, key=lambda name: sort_key(name, "sv")) == [
        "Arvika", "Zinkgruvan", "Åre", "Ängelholm", "Ödeshög", "Örebro",
    ]  # fmt: skip
    danish = ["Aarhus", "Ærø", "Ørsted", "Zealand", "Åbenrå", "Albertslund"]
    assert sorted(danish, key=lambda name: sort_key(name, "da")) == [
        "Albertslund", "Zealand", "Ærø", "Ørsted", "Åbenrå", "Aarhus",
    ]  # fmt: skip
    with translation.override("sv"):
        assert sort_key("Öresund") > sort_key("Zürich") > sort_key("Éire")
