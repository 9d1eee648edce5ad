"""Structured logs: one JSON object per line, with the fields a log shipper can index."""

from __future__ import annotations

import datetime as dt
import logging

import orjson


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(log_format: str) -> None:
    """Give Beacon's loggers one handler, once; tests capture them with caplog all the same."""
    logger = logging.getLogger("beacon")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s %(fields)s", defaults={"fields": ""})
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
