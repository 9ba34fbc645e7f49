"""Outgoing mail: SMTP when configured, otherwise an outbox (shown on a development console)."""

from __future__ import annotations

import asyncio
import smtplib
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import structlog

from aibos.platform.settings import Settings

logger = structlog.get_logger("aibos.mail")


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class OutboxMailer:
    """Keeps every message in memory and logs that it did; the body holds tokens, so only a
    development console shows it (where it is the one way to follow a link)."""

    def __init__(self, *, show_messages: bool = False) -> None:
        self.outbox: list[Mail] = []
        self._show_messages = show_messages

    async def send(self, mail: Mail) -> None:
        self.outbox.append(mail)
        logger.info("mail_kept_in_outbox", to=mail.to, subject=mail.subject)
        if self._show_messages:
            sys.stderr.write(_as_shown(mail))
            sys.stderr.flush()


def _as_shown(mail: Mail) -> str:
    lines = [f"To: {mail.to}", f"Subject: {mail.subject}", "", *mail.body.splitlines()]
    return "".join(f"  | {line}\n" for line in lines)


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send, mail)
        logger.info("mail_sent", to=mail.to, subject=mail.subject)

    def _send(self, mail: Mail) -> None:
        settings = self._settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            settings.mail_from,
            mail.to,
            mail.subject,
        )
        message.set_content(mail.body)
        assert settings.smtp_host is not None
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)


def create_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings)
    on_a_console = settings.env == "development" and not settings.renders_json_logs
    return OutboxMailer(show_messages=on_a_console)
