import asyncio

import pytest

from aibos.platform.app import create_app
from tests.conftest import SettingsFactory, serve
from tests.people import PASSWORD, mail_to, token_in, unique_email
from tests.platform.test_logging import json_lines
from tests.servers import free_port


def registration(email: str) -> dict[str, str]:
    return {"email": email, "password": PASSWORD, "full_name": "Mail Reader"}


async def test_a_development_console_shows_the_whole_message_with_its_link(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(env="development", log_format=None))
    email = unique_email("console")
    async with serve(app) as client:
        assert (await client.post("/api/v1/auth/register", json=registration(email))).is_success
        mail = await mail_to(app, email, "Confirm")
    output = capsys.readouterr().err

    assert f"To: {email}" in output
    assert f"http://127.0.0.1:8000/verify-email?token={token_in(mail)}" in output
    for line in mail.body.splitlines():
        assert line in output


@pytest.mark.parametrize(
    ("env", "log_format"), [("test", "console"), ("test", "json"), ("development", "json")]
)
async def test_the_message_stays_out_of_logs_elsewhere(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str], env: str, log_format: str
) -> None:
    app = create_app(make_settings(env=env, log_format=log_format))
    email = unique_email("quiet")
    async with serve(app) as client:
        assert (await client.post("/api/v1/auth/register", json=registration(email))).is_success
        mail = await mail_to(app, email, "Confirm")
    output = capsys.readouterr().err

    assert "mail_kept_in_outbox" in output
    assert token_in(mail) not in output


async def test_mail_the_server_cannot_take_is_logged_and_the_request_stands(
    make_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    closed_port = free_port()
    settings = make_settings(smtp_host="127.0.0.1", smtp_port=closed_port, smtp_starttls=False)
    email = unique_email("unsent")
    async with serve(create_app(settings)) as client:
        response = await client.post("/api/v1/auth/register", json=registration(email))
        output = ""
        for _ in range(200):
            output += capsys.readouterr().err
            if "mail_not_sent" in output:
                break
            await asyncio.sleep(0.01)

    assert response.status_code == 202
    unsent = [line for line in json_lines(output) if line["event"] == "mail_not_sent"]
    assert [line["to"] for line in unsent] == [email]
