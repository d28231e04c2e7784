# The portal's entry points. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
# django-newsletter's own environment, for the benchmark only.
DNL_VENV := .venv-django-newsletter
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Local development runs with DEBUG on and the embedded defaults (SQLite, inline tasks, console mail).
DEV_ENV := DEBUG=$${DEBUG:-true}
# The port of `make run`: `make run PORT=8001`.
PORT ?= 8000

.PHONY: run test setup venv system-deps gettext messages lint format migrations-check worker beat bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints-build.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade 'pip>=25.3'
	# xstatic-bootstrap builds from source with pkg_resources (setuptools < 81).
	$(PIP) install --quiet --build-constraint constraints-build.txt -r requirements-dev.txt
	touch $@

# The compiled translations come with the environment: they are not in git, and without them
# every page and email (the worker's too) is in English.
venv: $(VENV)/.installed messages

# Debian packages the project needs: gettext (compiled translations), Chromium (browser tests)
# and wrk (the benchmark's load generator, whose quick run is part of the suite).
system-deps: gettext
	@command -v chromium >/dev/null && command -v wrk >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium wrk >/dev/null; }

gettext:
	@command -v msgfmt >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gettext >/dev/null; }

messages: $(VENV)/.installed gettext
	$(DEV_ENV) $(MANAGE) compilemessages --ignore '$(VENV)/*' --ignore '$(DNL_VENV)/*' -v0

setup: venv system-deps messages
	$(DEV_ENV) $(MANAGE) migrate --no-input -v0
	$(DEV_ENV) $(MANAGE) load_organizations
	$(DEV_ENV) $(MANAGE) seed_demo

## Set up and run the portal on the embedded defaults with demo data at http://127.0.0.1:8000 (PORT=…)
run: setup
	$(DEV_ENV) SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(MANAGE) runserver 127.0.0.1:$(PORT)

## Set up and run the whole test suite (lint, format, migrations, unit, PostgreSQL, browser)
test: venv system-deps messages lint migrations-check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: venv
	$(DEV_ENV) $(MANAGE) makemigrations --check --dry-run -v0

## Background processes against Redis (CELERY_BROKER_URL must be set)
worker: venv
	$(VENV)/bin/celery -A network_portal worker -l info

beat: venv
	$(VENV)/bin/celery -A network_portal beat -l info

## The benchmark harness (bench/run.py): pages, a registration rush, the newsletter and reminders against
## floors measured in the same run, and django-newsletter 1.2.1 sending beside the portal's newsletter
## (in an environment of its own); results in bench/results/. BENCH_ARGS=--quick for a short run.
$(DNL_VENV)/.installed: bench/django_newsletter/requirements.txt
	test -x $(DNL_VENV)/bin/python || python3 -m venv $(DNL_VENV)
	$(DNL_VENV)/bin/pip install --quiet -r bench/django_newsletter/requirements.txt
	touch $@

bench: venv system-deps messages $(DNL_VENV)/.installed
	$(PY) -m bench.run --django-newsletter $(DNL_VENV)/bin/python $(BENCH_ARGS)

makemessages: venv
	$(DEV_ENV) $(MANAGE) makemessages -l da -l sv --ignore '$(VENV)/*' --ignore '$(DNL_VENV)/*' --ignore 'tests/*' --ignore 'bench/*' --no-obsolete

clean:
	rm -rf $(VENV) $(DNL_VENV) db.sqlite3 staticfiles
