"""No Docker engine runs here, so the container files are checked as text."""

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def test_compose_runs_api_database_cache_and_a_one_shot_migration() -> None:
    services = compose()["services"]

    assert set(services) == {"api", "postgres", "redis", "migrate", "mailpit"}
    assert services["migrate"]["command"] == ["aibos", "migrate"]
    assert services["migrate"]["restart"] == "no"


def test_every_long_running_service_has_a_healthcheck() -> None:
    services = compose()["services"]

    for name in ("api", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert "/api/v1/health" in " ".join(services["api"]["healthcheck"]["test"])


def test_api_waits_for_a_healthy_database_and_a_finished_migration() -> None:
    waits_for = compose()["services"]["api"]["depends_on"]

    assert waits_for["postgres"]["condition"] == "service_healthy"
    assert waits_for["redis"]["condition"] == "service_healthy"
    assert waits_for["migrate"]["condition"] == "service_completed_successfully"


def test_database_keeps_its_data_in_a_named_volume() -> None:
    document = compose()
    volume = document["services"]["postgres"]["volumes"][0].split(":")[0]

    assert volume in document["volumes"]


def test_api_and_migration_run_in_production_mode_on_postgres_and_redis() -> None:
    services = compose()["services"]

    for name in ("api", "migrate"):
        environment = services[name]["environment"]
        assert environment["AIBOS_ENV"] == "production"
        assert environment["AIBOS_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["AIBOS_REDIS_URL"].startswith("redis://")
        assert "AIBOS_SECRET_KEY:?" in environment["AIBOS_SECRET_KEY"]


def default_of(value: str) -> str:
    """What `${NAME:-default}` gives when NAME is not set."""
    found = re.fullmatch(r"\$\{(\w+):-(.*)\}", value)
    assert found, value
    return found.group(2)


def test_mail_goes_to_mailpit_unless_a_real_smtp_server_is_given() -> None:
    services = compose()["services"]
    mailpit = services["mailpit"]

    assert mailpit["image"].startswith("axllent/mailpit:")
    assert "8025:8025" in mailpit["ports"]
    assert services["api"]["depends_on"]["mailpit"]["condition"] == "service_started"
    for name in ("api", "migrate"):
        environment = services[name]["environment"]
        assert default_of(environment["AIBOS_SMTP_HOST"]) == "mailpit"
        assert default_of(environment["AIBOS_SMTP_PORT"]) == "1025"
        assert default_of(environment["AIBOS_SMTP_STARTTLS"]) == "false"


def test_dockerfile_is_multi_stage_with_uv_a_non_root_user_and_a_liveness_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    assert "uv sync --frozen --no-dev" in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user
    assert user[-1] not in ("root", "0")
    instructions = dockerfile.replace("\\\n", " ").splitlines()
    healthcheck = [line for line in instructions if line.startswith("HEALTHCHECK ")]
    assert len(healthcheck) == 1
    assert "/api/v1/health" in healthcheck[0]


def test_the_image_installs_the_package_alone_with_its_migrations_inside() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M)

    assert "uv sync --frozen --no-dev --no-editable" in dockerfile
    assert {source for line in copied for source in line.split()} == {
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "aibos",
    }
    assert (ROOT / "aibos" / "alembic" / "env.py").is_file()


def test_the_api_is_given_longer_to_stop_than_its_own_grace_period() -> None:
    api = compose()["services"]["api"]
    grace = int(api["environment"].get("AIBOS_SHUTDOWN_GRACE_SECONDS", 20))

    assert api["stop_grace_period"].endswith("s")
    assert int(api["stop_grace_period"][:-1]) > grace
    assert re.search(r"^STOPSIGNAL SIGTERM$", (ROOT / "Dockerfile").read_text(), re.M)
