"""The `aibos` command: serve, migrate, openapi."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import TypeAdapter, ValidationError

from aibos.platform.settings import Settings

T = TypeVar("T")


def load_settings() -> Settings:
    """Settings, or a clear message naming what is wrong and exit status 2."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            field = "".join(str(part) for part in problem["loc"]).upper()
            name = f"AIBOS_{field}: " if field else ""
            click.echo(f"Configuration error: {name}{problem['msg']}", err=True)
        sys.exit(2)


def _with_engine(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    from aibos.platform.db import create_engine

    async def run() -> T:
        engine = create_engine(settings)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@click.group()
def main() -> None:
    """AIBOS API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="AIBOS_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="AIBOS_PORT")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    envvar="AIBOS_FORWARDED_ALLOW_IPS",
    help="Proxies trusted for X-Forwarded-*.",
)
def serve(host: str, port: int, workers: int, reload: bool, forwarded_allow_ips: str) -> None:
    """Run the API server."""
    import uvicorn

    settings = load_settings()
    if workers > 1 and settings.redis_url is None:
        raise click.UsageError(
            "--workers above 1 needs AIBOS_REDIS_URL: processes share state there"
        )
    if settings.should_migrate_on_start:
        _upgrade(settings)
        os.environ["AIBOS_MIGRATE_ON_START"] = "false"  # done once here, not in every worker
    metrics_dir = _share_metrics_between_workers() if workers > 1 else None
    options: dict[str, Any] = {
        "app": "aibos.platform.app:create_app",
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "reload": reload,
        "loop": "uvloop",
        "http": "httptools",
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "server_header": False,
        "access_log": False,
        "log_config": None,
        # Requests in flight at SIGTERM get this long to finish; then they are cancelled.
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
    }
    try:
        if reload:
            uvicorn.run(**options)
        else:
            from aibos.platform.server import run

            run(uvicorn.Config(**options))
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _share_metrics_between_workers() -> str | None:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return None
    directory = tempfile.mkdtemp(prefix="aibos-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def _upgrade(settings: Settings) -> None:
    from aibos.platform.migrations import upgrade

    _with_engine(settings, upgrade)


@main.group(invoke_without_command=True)
@click.pass_context
def migrate(context: click.Context) -> None:
    """Upgrade the database to the latest revision (the default), or show where it stands."""
    if context.invoked_subcommand is None:
        _upgrade(load_settings())
        click.echo("Database is at the migration head.")


@migrate.command()
def current() -> None:
    """Show the database's revision and the code's head; exit 1 when they differ."""
    from aibos.platform.migrations import current_revision, head_revision

    revision = _with_engine(load_settings(), current_revision)
    head = head_revision()
    click.echo(f"current: {revision or '(empty database)'}\nhead:    {head}")
    sys.exit(0 if revision == head else 1)


def _valid_email(context: click.Context, parameter: click.Parameter, value: str) -> str:
    """The email as the API would take it (valid, lower case), or click's usage error."""
    from aibos.modules.users.schemas import Email

    try:
        return TypeAdapter(Email).validate_python(value)
    except ValidationError as error:
        raise click.BadParameter(error.errors()[0]["msg"]) from error


@main.command(
    "create-admin",
    epilog=(
        "Environment: AIBOS_ADMIN_PASSWORD gives the password instead of --password (for"
        " scripts; the prompt is used when neither is set and the account is new). Like every"
        " command it reads the AIBOS_* settings, AIBOS_DATABASE_URL among them, and in"
        " development migrates the database first (AIBOS_MIGRATE_ON_START)."
    ),
)
@click.option("--email", prompt=True, callback=_valid_email, help="The administrator's email.")
@click.option("--full-name", default="", help="Their name, for a new account.")
@click.option(
    "--password",
    envvar="AIBOS_ADMIN_PASSWORD",
    show_envvar=True,
    help="For a new account only; asked for when needed and not given.",
)
def create_admin(email: str, full_name: str, password: str | None) -> None:
    """Make this person an active administrator, creating the account if needed."""
    from aibos.modules.auth.service import AuthService
    from aibos.platform.container import build_container
    from aibos.platform.errors import DomainError

    settings = load_settings()
    if settings.should_migrate_on_start:
        _upgrade(settings)

    async def run(password: str | None) -> bool:
        container = build_container(settings)
        try:
            if password is None and not await _account_exists(container, email):
                password = _ask_for_password()
            service: AuthService = container.auth.service()
            return await service.create_admin(email=email, password=password, full_name=full_name)
        finally:
            container.auth.passwords().close()
            await container.engine().dispose()

    try:
        created = asyncio.run(run(password))
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    verb = "Created" if created else "Made"
    click.echo(f"{verb} {email} an active administrator.")


async def _account_exists(container: Any, email: str) -> bool:
    async with container.session_factory()() as session:
        return await container.users.directory().find_by_email(session, email) is not None


def _ask_for_password() -> str:
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@main.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def openapi(output: Path | None) -> None:
    """Print the OpenAPI document."""
    from aibos.platform.app import create_app

    document = json.dumps(create_app(load_settings()).openapi(), indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(document, nl=False)
    else:
        output.write_text(document)
