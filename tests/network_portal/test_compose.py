"""docker-compose.yml cannot run here (no Docker engine); read it and check what it promises."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
services = compose["services"]


def _command(name: str) -> str:
    command = services[name]["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_it_has_the_production_stack():
    assert set(services) == {"db", "redis", "web", "worker", "beat", "mail"}


def test_every_service_has_a_health_check():
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), name


def test_web_migrates_then_serves_under_gunicorn():
    command = _command("web")
    assert command.index("migrate") < command.index("gunicorn network_portal.wsgi:application")
    assert "load_organizations" in command


def test_worker_and_beat_run_the_portals_celery_app():
    assert _command("worker").startswith("celery -A network_portal worker")
    assert _command("beat").startswith("celery -A network_portal beat")
    # Two beats would send every periodic job twice.
    assert services["beat"]["deploy"]["replicas"] == 1


def test_app_services_use_postgres_redis_and_the_mail_catcher():
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:")
        assert environment["EMAIL_URL"] == "smtp://mail:1025"
        assert environment["DEBUG"] == "false"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_dockerfile_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile and "compilemessages" in dockerfile
    assert "USER portal" in dockerfile
