"""Image URLs from clients, parsed strictly: anything malformed is a 400 naming its field.

yarl parses (and refuses with `ValueError`: an unclosed `[`, a port out of range, a bad
`xn--` label, a backslash in the authority...), and lets through what a fetch would then trip
on, or worse: hosts with empty labels, spaces, NUL or `%`, IPv4 in brackets taken for a name,
zone ids, port 0, credentials. Those are refused here, before anything is resolved or
connected. The scheme is case-insensitive (`HTTP://` is `http://`). Where a valid URL may
point (public addresses only) is `media.fetch`'s business.
"""

from __future__ import annotations

import ipaddress
import re

from yarl import URL

from imagegate.errors import InvalidRequest

MAX_URL_LENGTH = 8192
MAX_HOST_LENGTH = 253
SCHEMES = ("http", "https")
_SCHEME = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*:")
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters, and `\` (never in a URL)
# A host name's label once IDNA-encoded: letters, digits and hyphens, not at either end
# (underscores too: not valid in host names, but seen in real ones).
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


def looks_like_url(text: str) -> bool:
    """Starts with a scheme (`http:`, `HTTPS:`, `ftp:`...): base64 never holds a colon."""
    return _SCHEME.match(text, 0, 64) is not None


def image_url(text: str, what: str) -> URL:
    """`text` as an http(s) URL to fetch an image from, or a 400 saying what is wrong."""
    if len(text) > MAX_URL_LENGTH:
        raise _malformed(what, f"it is longer than {MAX_URL_LENGTH} characters")
    forbidden = _FORBIDDEN.search(text)
    if forbidden is not None:
        raise _malformed(what, f"it contains {forbidden.group()!r}")
    try:
        url = URL(text)
    except ValueError as exc:  # UnicodeError (a bad IDNA label) is one too
        raise _malformed(what, str(exc)) from exc
    check_image_url(url, what)
    return url


def check_image_url(url: URL, what: str) -> None:
    """The checks `image_url` makes once yarl has parsed: for a redirect's target too."""
    if url.scheme not in SCHEMES:
        raise InvalidRequest(
            f"{what} URL must be http or https, not {url.scheme or 'relative'}", param=what
        )
    try:
        host, port, authority = url.raw_host, url.explicit_port, url.raw_authority
        url.host  # noqa: B018 (decoding an IDNA name fails only here, for some bad labels)
    except ValueError as exc:
        raise _malformed(what, str(exc)) from exc
    if not host:
        raise _malformed(what, "it has no host")
    if url.raw_user is not None or url.raw_password is not None:
        raise _malformed(what, "it carries credentials (user@ or user:password@)")
    if port == 0:
        raise _malformed(what, "port 0")
    if authority.startswith("["):
        _check_ipv6_literal(host, what)
    elif not _is_ipv4(host):
        _check_host_name(host, what)


def _check_ipv6_literal(host: str, what: str) -> None:
    if "%" in host:
        raise _malformed(what, "an IPv6 zone id (%) is not allowed")
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise _malformed(what, f"[{host}] is not an IPv6 address") from exc
    if address.version != 6:
        raise _malformed(what, f"[{host}] is not an IPv6 address")


def _is_ipv4(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 4
    except ValueError:
        return False


def _check_host_name(host: str, what: str) -> None:
    name = host.removesuffix(".")  # a fully qualified name may end with a dot
    if len(name) > MAX_HOST_LENGTH:
        raise _malformed(what, f"its host is longer than {MAX_HOST_LENGTH} characters")
    if not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise _malformed(what, f"{host!r} is not a valid host name")


def _malformed(what: str, reason: str) -> InvalidRequest:
    return InvalidRequest(f"{what} is not a valid image URL: {reason}", param=what)
