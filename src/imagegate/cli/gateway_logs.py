"""Where a served gateway's own log lines go (the one process of `serve`, or each worker)."""

from __future__ import annotations

import logging


def gateway_logs() -> None:
    """The gateway's own lines (a failed attempt and what the upstream said, redacted once the
    gateway has started) go to stderr beside uvicorn's, at the same level."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s: %(message)s"))
    logger = logging.getLogger("imagegate")
    logger.handlers = [handler]
    logger.setLevel(logging.getLogger("uvicorn.error").level)
    logger.propagate = False
    # No served line says where in the code it was logged from: without this, every record
    # (one per request, for the access log) walks the stack to find out. The logging HOWTO's
    # own advice ("Optimization"); the process is the server's, not an embedding application's.
    logging._srcfile = None
