"""Structured logs without personal data.

One JSON object per line: time, level, logger, message and a few named fields (the
request's method, route template, status and duration; the process id). What is never
written: request bodies, query strings, client addresses, user agents, and the *messages*
of exceptions, because a database error repeats the values it failed on (a phone number, a
narrative). An exception is logged as its type and the file:line of each frame.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from datetime import UTC, datetime
from typing import Any

# Fields a log call may add with ``extra=``; anything else passed that way is dropped.
FIELDS = ("event", "method", "route", "status", "ms", "batch", "job", "attempt", "count")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": os.getpid(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            etype, _, tb = record.exc_info
            out["error"] = etype.__name__
            out["frames"] = [
                f"{f.filename.rsplit('/site-packages/', 1)[-1]}:{f.lineno}:{f.name}"
                for f in traceback.extract_tb(tb)
            ][-8:]
        return json.dumps(out, ensure_ascii=False)


def uvicorn_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn (applied in every worker process): JSON
    lines on stderr, uvicorn's own access log off (ringtrace logs requests itself, without
    client addresses or query strings)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "ringtrace.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"level": "INFO"},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"level": "WARNING", "propagate": False, "handlers": []},
            "sqlalchemy": {"level": "WARNING"},
            "androguard": {"level": "ERROR"},
        },
    }
