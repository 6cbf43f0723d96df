"""The access log `imagegate serve` writes: uvicorn's lines, formatted more cheaply.

uvicorn's access formatter copies every record and looks its status phrase up each time; at
hundreds of requests a second that is a visible share of the gateway's CPU. When the log goes
to a terminal (colours) uvicorn's own formatter is kept; otherwise each line is formatted once,
straight from the record's arguments, into the very text uvicorn writes:

    INFO:     127.0.0.1:50312 - "POST /v1/images/generations HTTP/1.1" 200 OK
"""

from __future__ import annotations

import copy
import http
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_PHRASES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}


class AccessLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if not (isinstance(args, tuple) and len(args) == 5):
            return super().format(record)  # not uvicorn's access record: as logging would
        client, method, path, version, status = args
        code = int(status)  # type: ignore[call-overload]
        phrase = _PHRASES.get(code) or f"{code} "
        prefix = f"{record.levelname}:".ljust(10)
        return f'{prefix}{client} - "{method} {path} HTTP/{version}" {phrase}'


def log_config(use_colors: bool) -> dict[str, Any]:
    """uvicorn's logging configuration, with `AccessLine` for the access log unless it is
    coloured for a terminal."""
    config = copy.deepcopy(LOGGING_CONFIG)
    if not use_colors:
        config["formatters"]["access"] = {"()": f"{__name__}.AccessLine"}
    return config
