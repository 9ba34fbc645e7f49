"""structlog configuration: JSON lines in production, console in development, secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TextIO

import structlog

from aibos.platform.settings import Settings

_SECRET_NAME = r"pass(word)?|secret|token|authorization|cookie|api[_-]?key"  # noqa: S105
_SECRET_KEY = re.compile(_SECRET_NAME, re.I)
REDACTED = "[redacted]"
# Secrets written into free text (exception messages, the source lines of a traceback): a value
# given to a name that speaks of a secret, a bearer credential, a password in a URL, a JWT.
_SECRETS_IN_TEXT = (
    # One word then its value, the word checked apart: a pattern that looks for the name inside
    # the word backtracks over long words, in time that grows with the square of their length.
    (
        re.compile(r"(?<![\w-])([\w-]+)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",;&)]+)"),
        lambda found: (
            f"{found[1]}{found[2]}{REDACTED}" if _SECRET_KEY.search(found[1]) else found[0]
        ),
    ),
    (re.compile(r"\b(bearer|basic)\s+[\w.~+/=-]+", re.I), rf"\1 {REDACTED}"),
    (re.compile(r"\b(\w+://[^:/@\s]+:)[^@\s]+@"), rf"\1{REDACTED}@"),
    (re.compile(r"\beyJ[\w-]+\.[\w.-]*"), REDACTED),
)


@lru_cache(maxsize=4096)
def _names_a_secret(key: str) -> bool:
    return _SECRET_KEY.search(key) is not None


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _names_a_secret(str(key)) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value]
    return value


def redact_text(text: str) -> str:
    """The text with every secret it visibly carries replaced."""
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact_exception(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Redact the traceback text that format_exc_info made (its messages and source lines)."""
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = redact_text(event_dict[key])
    return event_dict


def redact_message(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Redact what a free-text message visibly carries of secrets."""
    if isinstance(event_dict.get("event"), str):
        event_dict["event"] = redact_text(event_dict["event"])
    return event_dict


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace every field whose name speaks of a secret, at any depth."""
    for key, value in event_dict.items():
        if _names_a_secret(key):
            event_dict[key] = REDACTED
        elif isinstance(value, Mapping | list | tuple):
            event_dict[key] = _redact(value)
    return event_dict


@dataclass
class _Output:
    """How and where our lines come out. Loggers are cached with their processors on first use,
    so configure_logging changes this one object rather than the loggers (tests make many apps)."""

    stream: TextIO
    renderers: list[structlog.types.Processor] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


_output = _Output(sys.stderr)


def _render(logger: Any, method: str, event_dict: Any) -> Any:
    for renderer in _output.renderers:
        event_dict = renderer(logger, method, event_dict)
    return event_dict


class _LineWriter:
    """A structlog logger that writes each rendered line, and knows its name (add_logger_name)."""

    def __init__(self, name: str = "aibos") -> None:
        self.name = name

    def msg(self, message: str) -> None:
        with _output.lock:
            _output.stream.write(message + "\n")
            _output.stream.flush()

    debug = info = warning = error = critical = exception = msg


def configure_logging(settings: Settings) -> None:
    """Our own lines are rendered and written by structlog directly, without the stdlib's
    records and handlers (they cost more than the rest of a small request); other libraries'
    lines go through the stdlib and come out in the same format."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    # Tracebacks are plain text, never with their frames' locals (secrets, and slow to render on
    # the event loop), and go through redaction like every other field, in both formats.
    renderers: list[structlog.types.Processor] = [
        structlog.processors.format_exc_info,
        redact_exception,
        structlog.processors.JSONRenderer()
        if settings.renders_json_logs
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        ),
    ]
    _output.stream, _output.renderers = sys.stderr, renderers
    structlog.configure(
        processors=[*shared, _render],
        # Drops a line below the level before any work is spent on it.
        wrapper_class=structlog.make_filtering_bound_logger(settings.log_level),
        logger_factory=_LineWriter,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # Other libraries' messages are free text, where a secret can hide; ours are event names.
        foreign_pre_chain=[*shared, redact_message],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *renderers,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
    # Our access log replaces uvicorn's; its error log flows through the formatter above.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
