import json

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
