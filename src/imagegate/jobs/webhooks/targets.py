"""Which callback URLs a job (or a key) may name: the SSRF rules image URLs follow.

Checked here, before anything is stored: http(s) only, at most `MAX_URL_LENGTH` characters, a
host, no credentials, and no IP literal (or `localhost`) the fetch policy does not permit (the
loopback, private, link-local... networks, unless `fetch_allow_networks` names them). A host
name is checked again when each attempt is sent, on the addresses it then resolves to
(`sender.py`, through the resolver `media.fetch` uses), so a name cannot pass here and then
point inwards. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from yarl import URL

from imagegate.config import Settings
from imagegate.errors import InvalidRequest
from imagegate.media.fetch import FetchPolicy

MAX_URL_LENGTH = 2048
PARAM = "callback_url"
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")  # control characters, spaces and `\`
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}")
# localhost names resolve to loopback whatever DNS says (RFC 6761)
_LOOPBACK_NAMES = {"localhost": ipaddress.ip_address("127.0.0.1")}


def checked_callback_url(url: str, policy: FetchPolicy, param: str = PARAM) -> str:
    """`url`, if a webhook may be sent to it; otherwise a 400 naming `param` and the reason."""
    if len(url) > MAX_URL_LENGTH:
        raise _refused(param, f"it is longer than {MAX_URL_LENGTH} characters")
    forbidden = _FORBIDDEN.search(url)
    if forbidden is not None:
        raise _refused(param, f"it contains {forbidden.group()!r}")
    try:
        parsed = URL(url)
        host, port = parsed.raw_host, parsed.explicit_port
    except ValueError as exc:
        raise _refused(param, str(exc)) from exc
    if parsed.scheme not in ("http", "https"):
        raise _refused(param, f"it must be http or https, not {parsed.scheme or 'relative'}")
    if not host:
        raise _refused(param, "it has no host")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise _refused(param, "it carries credentials (user@ or user:password@)")
    if port == 0:
        raise _refused(param, "port 0")
    if "%" in host:
        raise _refused(param, "an IPv6 zone id (%) is not allowed")
    address = _literal_address(host)
    if address is not None and not policy.permits(address):
        raise _refused(
            param,
            f"{host} is {address}, not a public address (loopback, private, link-local, "
            "multicast and reserved networks are refused unless fetch_allow_networks allows them)",
        )
    return url


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    name = host.lower().removesuffix(".")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return _LOOPBACK_NAMES["localhost"]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(name):  # 127.1, 2130706433, 0x7f.1: resolvers take these too
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _refused(param: str, reason: str) -> InvalidRequest:
    return InvalidRequest(f"{param} is not a URL webhooks may be sent to: {reason}", param=param)


def callback_policy(settings: Settings) -> FetchPolicy:
    """Where callback URLs may point: where image URLs may (`fetch_allow_networks`)."""
    return FetchPolicy.from_strings(settings.fetch_allow_networks.split(","))
