from pathlib import Path

import pytest
from pydantic import ValidationError

from aibos.platform.settings import Settings

SAFE_PRODUCTION = {
    "env": "production",
    "database_url": "postgresql+asyncpg://aibos@db:5432/aibos",
    "redis_url": "redis://cache:6379/0",
    "secret_key": "k" * 40,
    "smtp_host": "smtp.example.com",
}


def production(**changes: object) -> Settings:
    return Settings(_env_file=None, **{**SAFE_PRODUCTION, **changes})  # type: ignore[arg-type]


def test_safe_production_settings_are_accepted() -> None:
    settings = production()

    assert settings.is_production
    assert not settings.should_serve_docs
    assert not settings.should_migrate_on_start
    assert settings.renders_json_logs


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"redis_url": None}, "AIBOS_REDIS_URL"),
        ({"database_url": "sqlite+aiosqlite:///./aibos.db"}, "AIBOS_DATABASE_URL"),
        ({"secret_key": "short-secret"}, "AIBOS_SECRET_KEY"),
        ({"smtp_host": None}, "AIBOS_SMTP_HOST"),
        ({"metrics_enabled": True}, "AIBOS_METRICS_TOKEN"),
        ({"metrics_token": "short-metrics-token"}, "AIBOS_METRICS_TOKEN"),
    ],
)
def test_production_refuses_unsafe_settings_naming_the_variable(
    changes: dict[str, object], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        production(**changes)


@pytest.mark.parametrize("registration", [True, False])
def test_production_refuses_to_start_without_smtp_as_invitations_and_resets_send_mail(
    monkeypatch: pytest.MonkeyPatch, registration: bool
) -> None:
    monkeypatch.delenv("AIBOS_SMTP_HOST", raising=False)

    with pytest.raises(ValidationError, match="AIBOS_SMTP_HOST") as refused:
        production(smtp_host=None, registration_enabled=registration)

    assert f"AIBOS_REGISTRATION_ENABLED={str(registration).lower()}" in str(refused.value)


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {key: value for key, value in SAFE_PRODUCTION.items() if key != "secret_key"}
    monkeypatch.delenv("AIBOS_SECRET_KEY", raising=False)

    with pytest.raises(ValidationError, match="AIBOS_SECRET_KEY"):
        Settings(_env_file=None, **settings)  # type: ignore[arg-type]


def test_development_needs_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIBOS_DATABASE_URL", "AIBOS_REDIS_URL", "AIBOS_ENV"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=None)

    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.redis_url is None
    assert settings.should_migrate_on_start
    assert settings.should_serve_docs


def test_lists_are_read_from_comma_separated_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIBOS_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("AIBOS_TRUSTED_HOSTS", "api.example.com")

    settings = Settings(_env_file=None)

    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.trusted_hosts == ["api.example.com"]


def test_settings_are_read_from_a_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIBOS_MAX_REQUEST_BODY_BYTES", raising=False)
    (tmp_path / ".env").write_text("AIBOS_MAX_REQUEST_BODY_BYTES=4096\n")

    assert Settings().max_request_body_bytes == 4096


def test_every_setting_is_documented_in_env_example_and_readme() -> None:
    root = Path(__file__).resolve().parents[2]
    env_example = (root / ".env.example").read_text()
    readme = (root / "README.md").read_text()

    for name in Settings.model_fields:
        variable = f"AIBOS_{name.upper()}"
        assert f"\n{variable}=" in env_example, f"{variable} is missing from .env.example"
        assert variable in readme, f"{variable} is missing from the README"


@pytest.mark.parametrize(
    ("time_cost", "memory_kib"), [(1, 47_104), (2, 19_456), (3, 12_288), (4, 9_216), (6, 7_168)]
)
def test_each_of_owasps_equal_argon2_configurations_is_accepted(
    time_cost: int, memory_kib: int
) -> None:
    settings = Settings(_env_file=None, argon2_time_cost=time_cost, argon2_memory_kib=memory_kib)

    assert (settings.argon2_time_cost, settings.argon2_memory_kib) == (time_cost, memory_kib)


@pytest.mark.parametrize(
    ("time_cost", "memory_kib"), [(1, 19_456), (2, 19_455), (3, 9_216), (5, 7_167), (0, 65_536)]
)
def test_argon2_below_owasps_minimum_is_refused(time_cost: int, memory_kib: int) -> None:
    with pytest.raises(ValidationError, match=r"AIBOS_ARGON2|argon2_time_cost|argon2_memory_kib"):
        Settings(_env_file=None, argon2_time_cost=time_cost, argon2_memory_kib=memory_kib)
