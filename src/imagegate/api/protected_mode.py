"""What a gateway serving without keys (protected mode) answers only on loopback.

Protected mode trusts whoever can reach the socket, and `imagegate serve` listens only on
loopback then. A browser on the same machine is the gap: any page the operator visits can POST
to `http://127.0.0.1:<port>` (a "simple" request with `Content-Type: text/plain` needs no
preflight, and the body is read as JSON whatever its type), and a DNS-rebinding page reaches the
gateway under its own host name and may read the answers. So a request that needs no key must
be addressed to a loopback name, and may come from no page but the gateway's own (the console)
or one of `cors_origins`.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request

from imagegate.api.cors import allowed_origins
from imagegate.errors import Forbidden


class ProtectedMode:
    def __init__(self, cors_origins: str) -> None:
        origins = allowed_origins(cors_origins)
        self._any_origin = "*" in origins
        self._origins = {origin.lower() for origin in origins if origin != "*"}

    def admit(self, request: Request) -> None:
        """Raises `Forbidden` for a request from outside loopback's browser sandbox."""
        host = request.headers.get("host")
        if host is not None and not is_loopback_name(host):
            raise Forbidden(
                f"this gateway serves without keys (protected mode) and answers only requests "
                f"addressed to a loopback name (localhost, 127.0.0.1, [::1]), not {host!r}; set "
                "IMAGEGATE_MASTER_KEY to serve it under other names"
            )
        origin = request.headers.get("origin")
        if origin is None or self._any_origin or origin.rstrip("/").lower() in self._origins:
            return
        own = host is not None and urlsplit(origin).netloc.lower() == host.lower()
        if origin != "null" and own:
            return  # the gateway's own pages: the console
        raise Forbidden(
            f"a web page from {origin} may not use this gateway: it serves without keys "
            "(protected mode), so only its own pages and the origins in IMAGEGATE_CORS_ORIGINS may"
        )


def is_loopback_name(host: str) -> bool:
    """`host` (a Host header: a name or address, with or without a port) names loopback."""
    name = urlsplit(f"//{host}").hostname
    if name is None:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True  # RFC 6761: resolved to loopback, never asked of DNS
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
