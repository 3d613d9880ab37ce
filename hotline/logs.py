"""structlog set-up: key-value events, JSON in production, readable on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(
    *, json: bool | None = None, level: str = "INFO", cache: bool = True
) -> None:
    """Route structlog and stdlib logging (panoramisk, aiohttp, alembic) to one stream.

    `cache=False` keeps module loggers unbound from this set-up: tests that run the command
    line in-process must not freeze the loggers that later tests capture."""
    if json is None:
        json = not sys.stderr.isatty()
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=cache,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces every plugin it loads; only its migration steps are news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
