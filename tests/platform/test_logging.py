import asyncio
import json
import logging
import time

import pytest

from aibos.platform.app import create_app
from tests.conftest import SettingsFactory, serve
from tests.platform.probes import with_probes


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_every_line_of_a_request_carries_its_id_and_secrets_never_reach_the_log(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    app = with_probes(create_app(make_settings()))
    async with serve(app) as client:
        await client.post(
            "/probe/log",
            headers={"X-Request-ID": "req-abc", "Authorization": "Bearer abc.def.ghi"},
        )
    output = capsys.readouterr().err

    lines = [line for line in json_lines(output) if line.get("request_id") == "req-abc"]
    assert {line["logger"] for line in lines} == {"probe", "aibos.access"}
    signing_in = next(line for line in lines if line["event"] == "signing_in")
    assert signing_in["email"] == "a@example.com"
    assert signing_in["password"] == "[redacted]"
    assert signing_in["refresh_token"] == "[redacted]"
    assert signing_in["headers"] == {"Authorization": "[redacted]", "Accept": "json"}
    for secret in ("hunter2", "abc.def.ghi", "opaque-refresh-token"):
        assert secret not in output


async def test_one_access_line_per_request_with_route_template_status_and_duration(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    app = with_probes(create_app(make_settings()))
    async with serve(app) as client:
        await client.get("/probe/items/7?token=query-secret", headers={"X-Request-ID": "req-7"})
    output = capsys.readouterr().err

    access = [
        line
        for line in json_lines(output)
        if line["logger"] == "aibos.access" and line["request_id"] == "req-7"
    ]
    assert len(access) == 1
    assert access[0]["method"] == "GET"
    assert access[0]["route"] == "/probe/items/{item_id}"
    assert access[0]["status"] == 200
    assert isinstance(access[0]["duration_ms"], float)
    assert "query-secret" not in output  # the test client's own log is silenced in conftest


async def test_an_unhandled_error_is_logged_with_its_request_id(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    app = with_probes(create_app(make_settings()))
    async with serve(app) as client:
        await client.get("/probe/boom", headers={"X-Request-ID": "req-boom"})
    lines = json_lines(capsys.readouterr().err)

    error = next(line for line in lines if line["event"] == "unhandled_error")
    assert error["request_id"] == "req-boom"
    assert "RuntimeError" in str(error["exception"])
    assert "postgresql://u:[redacted]@db" in str(error["exception"])  # a password in a URL


async def test_development_logs_are_readable_console_lines(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(env="development", log_format=None))
    async with serve(app) as client:
        await client.get("/api/v1/health", headers={"X-Request-ID": "req-console"})
    output = capsys.readouterr().err

    line = next(line for line in output.splitlines() if "req-console" in line)
    assert not line.startswith("{")
    assert "route=/api/v1/health" in line


async def _fail_holding_a_secret() -> None:
    bearer_prefix = "Bearer eyJhbGciOiJIUzI1NiJ9.local-secret"  # a local no log may show
    raise RuntimeError(f"could not refresh with password=hunter2 ({len(bearer_prefix)})")


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_a_500_logs_a_traceback_without_locals_or_secrets(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    app = create_app(make_settings(env="development", log_format=log_format))
    app.get("/fails")(_fail_holding_a_secret)
    async with serve(app) as client:
        response = await client.get("/fails")
    output = capsys.readouterr().err

    assert response.status_code == 500
    assert "_fail_holding_a_secret" in output  # the traceback is there
    assert "RuntimeError" in output
    for secret in ("local-secret", "eyJhbGciOiJIUzI1NiJ9", "hunter2"):
        assert secret not in output
    assert "bearer_prefix =" not in output  # no locals, not even their names


async def test_logging_a_500_does_not_hold_up_other_requests(
    make_settings: SettingsFactory,
) -> None:
    app = create_app(make_settings(env="development", log_format="console"))
    app.get("/fails")(_fail_holding_a_secret)
    async with serve(app) as client:
        started = time.perf_counter()

        async def health_answered_after() -> float:
            assert (await client.get("/api/v1/health")).status_code == 200
            return time.perf_counter() - started

        failed, health_seconds = await asyncio.gather(client.get("/fails"), health_answered_after())

    assert failed.status_code == 500
    assert health_seconds < 1


async def test_other_libraries_messages_are_redacted_too(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    create_app(make_settings(log_format="console"))
    logging.getLogger("some.library").warning("retrying with password=hunter2 for Bearer abc.def")
    output = capsys.readouterr().err

    assert "retrying with password=[redacted] for Bearer [redacted]" in output
    assert "hunter2" not in output
