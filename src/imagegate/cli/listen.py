"""The gateway's listening socket, bound before anything else happens.

`imagegate serve` binds it first and hands it to uvicorn, so a port that is taken is said in
one line before any other output or work, and nothing can take the port between a check and
the bind. Bound as uvicorn binds its own (`uvicorn.Config.bind_socket`): IPv6 when the host has a
colon, `SO_REUSEADDR`, which still refuses a port another socket is listening on.
"""

from __future__ import annotations

import errno
import socket

BACKLOG = 2048  # uvicorn's default


class CannotListen(Exception):
    """One line saying why the gateway cannot listen where it was told to."""


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise CannotListen(_reason(exc, host, port)) from exc
    return sock


def _reason(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another imagegate?); "
            "choose another with --port or IMAGEGATE_PORT"
        )
    if exc.errno == errno.EACCES:
        return (
            f"not allowed to listen on port {port} on {host} (ports below 1024 need "
            "privileges); choose another with --port or IMAGEGATE_PORT"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {host}: it is not an address of this machine; "
            "choose another with --host or IMAGEGATE_HOST"
        )
    reason = (exc.strerror or str(exc)).lower()
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}: {reason}; choose another with --host or IMAGEGATE_HOST"
    return f"cannot listen on port {port} on {host}: {reason}"
