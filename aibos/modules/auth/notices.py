"""Mail that tells a person about their account; it leaves once the work that caused it commits."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from aibos.platform.db import after_commit
from aibos.platform.mail import Mail, Mailer
from aibos.platform.settings import Settings

logger = structlog.get_logger("aibos.mail")


class Notices:
    def __init__(self, *, settings: Settings, mailer: Mailer) -> None:
        self._public_url = settings.public_url
        self._mailer = mailer
        self._sending: set[asyncio.Task[None]] = set()

    def send(self, session: AsyncSession, mail: Mail) -> None:
        """Send once the session commits, in the background, so that no answer's timing tells
        whether mail went out."""

        async def send_without_waiting() -> None:
            task = asyncio.create_task(self._send_or_log(mail))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

        after_commit(session, send_without_waiting)

    async def _send_or_log(self, mail: Mail) -> None:
        """Nobody waits for background mail but the log, so whatever stops it is logged."""
        try:
            await self._mailer.send(mail)
        except Exception as error:
            logger.warning("mail_not_sent", to=mail.to, subject=mail.subject, error=repr(error))

    def sign_up_attempted(self, session: AsyncSession, email: str) -> None:
        body = (
            "Someone tried to create an AIBOS account with this address, which already has one."
            " Nothing was changed.\n\nIf it was you, sign in at"
            f" {self._public_url} with your password, or ask there for a link to choose a new one."
            "\nIf it was not, you can ignore this mail.\n"
        )
        self.send(session, Mail(to=email, subject="Someone tried to sign up as you", body=body))

    def email_change_requested(self, session: AsyncSession, *, old: str, new: str) -> None:
        body = (
            f"Someone signed in to your AIBOS account asked to change its email to {new}."
            " This address stays the account's, for signing in and password resets, until the"
            " link sent there is followed.\n\nIf it was not you, change your password now"
            " (ask for a reset link if need be): that ends every session.\n"
        )
        self.send(session, Mail(to=old, subject="Your email is about to change", body=body))

    def email_changed(self, session: AsyncSession, *, old: str, new: str) -> None:
        body = (
            f"An administrator changed the email of your AIBOS account to {new}; this address"
            " no longer signs in. If you did not expect this, ask your administrator.\n"
        )
        self.send(session, Mail(to=old, subject="Your email was changed", body=body))
