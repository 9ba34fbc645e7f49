"""Settings read from AIBOS_* environment variables and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 (refused in production)
MIN_SECRET_KEY_LENGTH = 32

# OWASP's equally strong argon2id minimums: iterations -> memory (KiB); five or more take the last.
ARGON2_MINIMUM_MEMORY_KIB = {1: 47_104, 2: 19_456, 3: 12_288, 4: 9_216, 5: 7_168}

CommaList = Annotated[list[str], NoDecode]
RateLimit = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*/[1-9][0-9]*$")]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AIBOS_", env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    env: Literal["development", "test", "production"] = "development"
    secret_key: str = DEFAULT_SECRET_KEY

    database_url: str = "sqlite+aiosqlite:///./aibos.db"
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_pool_recycle_seconds: int = Field(default=1800, ge=-1)
    db_pool_pre_ping: bool = False
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    db_hot_writers: int = Field(default=8, ge=1)
    requests_in_progress: int = Field(default=24, ge=1)

    redis_url: str | None = None
    redis_timeout_seconds: float = Field(default=1.0, gt=0)
    cache_namespace: str = "aibos"

    migrate_on_start: bool | None = None
    docs_enabled: bool | None = None
    metrics_enabled: bool | None = None
    metrics_token: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] | None = None

    cors_origins: CommaList = []
    trusted_hosts: CommaList = ["*"]
    max_request_body_bytes: int = Field(default=1_048_576, ge=1)
    health_check_timeout_seconds: float = Field(default=2.0, gt=0)
    shutdown_grace_seconds: int = Field(default=20, ge=1, le=3600)

    # Auth: tokens
    jwt_issuer: str = "aibos"
    jwt_audience: str = "aibos-api"
    jwt_keys_dir: Path | None = None
    jwt_active_key_id: str | None = None
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=7, ge=1, le=90)
    refresh_race_seconds: float = Field(default=2.0, ge=0, le=30)
    revocation_cache_seconds: float = Field(default=1.0, ge=0, le=1.0)

    # Auth: passwords (argon2id; the floors are OWASP's minimum, see ARGON2_MINIMUM_MEMORY_KIB)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19_456, ge=min(ARGON2_MINIMUM_MEMORY_KIB.values()))
    argon2_parallelism: int = Field(default=1, ge=1)
    password_min_length: int = Field(default=8, ge=8, le=64)
    password_require_letter_and_digit: bool = True
    registration_enabled: bool = True
    verification_token_hours: int = Field(default=48, ge=1)
    reset_token_minutes: int = Field(default=60, ge=5)

    # Auth: rate limits, "attempts/seconds"
    rate_limit_login_per_account: RateLimit = "10/300"
    rate_limit_login_per_address: RateLimit = "60/300"
    rate_limit_register_per_account: RateLimit = "5/3600"
    rate_limit_register_per_address: RateLimit = "10/3600"
    rate_limit_refresh_per_account: RateLimit = "60/60"
    rate_limit_refresh_per_address: RateLimit = "120/60"
    rate_limit_reset_per_account: RateLimit = "3/3600"
    rate_limit_reset_per_address: RateLimit = "20/3600"

    # Ledger
    functional_currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "MYR"
    approval_threshold: Annotated[
        str, StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$")
    ] = "10000.00"

    # Mail: SMTP when a host is set (required in production), otherwise an outbox
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "AIBOS <no-reply@localhost>"
    public_url: str = "http://127.0.0.1:8000"

    @field_validator("cors_origins", "trusted_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("redis_url", "smtp_host", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        return value or None

    @model_validator(mode="after")
    def _refuse_weak_password_hashing(self) -> Settings:
        floor = ARGON2_MINIMUM_MEMORY_KIB[
            min(self.argon2_time_cost, max(ARGON2_MINIMUM_MEMORY_KIB))
        ]
        if self.argon2_memory_kib < floor:
            raise ValueError(
                f"AIBOS_ARGON2_MEMORY_KIB must be at least {floor} with"
                f" AIBOS_ARGON2_TIME_COST={self.argon2_time_cost} (OWASP's minimum for argon2id)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production" and (problems := self._production_problems()):
            raise ValueError("; ".join(problems))
        return self

    def _production_problems(self) -> list[str]:
        problems = []
        if not self.database_url.startswith("postgresql+asyncpg://"):
            problems.append("AIBOS_DATABASE_URL must be a postgresql+asyncpg:// URL in production")
        if not self.redis_url:
            problems.append("AIBOS_REDIS_URL is required in production")
        if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                "AIBOS_SECRET_KEY must be a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production"
            )
        if not self.smtp_host:
            # Invitations (POST /api/v1/users) cannot be switched off, and resets need mail too.
            problems.append(
                "AIBOS_SMTP_HOST is required in production: sign-up"
                f" (AIBOS_REGISTRATION_ENABLED={str(self.registration_enabled).lower()}),"
                " invitations and password resets send mail"
            )
        if self.should_serve_metrics and not self._metrics_token_is_strong():
            problems.append(
                f"AIBOS_METRICS_TOKEN must be a random value of at least {MIN_SECRET_KEY_LENGTH}"
                " characters in production to serve metrics (or AIBOS_METRICS_ENABLED=false)"
            )
        return problems

    def _metrics_token_is_strong(self) -> bool:
        token = self.metrics_token
        return token is not None and len(token.get_secret_value()) >= MIN_SECRET_KEY_LENGTH

    @property
    def should_serve_metrics(self) -> bool:
        """Unset: on outside production, and in production once a metrics token is given."""
        if self.metrics_enabled is None:
            return not self.is_production or self.metrics_token is not None
        return self.metrics_enabled

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def should_migrate_on_start(self) -> bool:
        return not self.is_production if self.migrate_on_start is None else self.migrate_on_start

    @property
    def should_serve_docs(self) -> bool:
        return not self.is_production if self.docs_enabled is None else self.docs_enabled

    @property
    def renders_json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format is None and self.is_production)

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
