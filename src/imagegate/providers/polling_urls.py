"""Following the URLs an asynchronous provider hands back: BFL's `polling_url`, fal's
`status_url` / `response_url` / `cancel_url`, Replicate's `urls.get` / `urls.cancel`.

Where they may point. These requests carry the provider's key, so a URL is followed only if it
stays with the provider: the configured base URL's scheme and port, and its host or another
host of its registrable domain (its last two labels; three under a country's public suffix such
as `co.uk`). Base `https://api.bfl.ai` (or a regional `https://api.eu.bfl.ai`) admits BFL's
regional `api.eu.bfl.ai`, `api.us.bfl.ai`, `api.us1.bfl.ai`, all `*.bfl.ai`;
`https://queue.fal.run` admits `*.fal.run`; `https://api.replicate.com` admits
`*.replicate.com`. A base host that is an IP address or a single label (`localhost`) admits only
itself. URLs are read with yarl, as the HTTP client reads them. Anything else is refused with an
`UpstreamError` before a byte is sent. (Output files carry no key: they go through the safe
fetcher, wherever they are.)
"""

from __future__ import annotations

import ipaddress

from yarl import URL

from imagegate.errors import UpstreamError
from imagegate.providers.base import ProviderContext

# second-level labels that, under a country's two-letter domain, make a public suffix (co.uk)
_SUFFIX_LABELS = frozenset({"ac", "co", "com", "edu", "go", "gov", "ne", "net", "or", "org"})


def _origin(url: str) -> tuple[str, str, int] | None:
    """Scheme, host (lower case, no trailing dot) and port, read as the HTTP client reads the
    URL (yarl), or None if it could not be followed."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return None
    host = (parsed.host or "").lower().rstrip(".")
    if parsed.scheme not in ("http", "https") or not host or parsed.port is None:
        return None
    return parsed.scheme, host, parsed.port


def _site(host: str) -> str | None:
    """The registrable domain whose hosts count as the provider's (`api.eu.bfl.ai` → `bfl.ai`,
    `proxy.example.co.uk` → `example.co.uk`), or None when only `host` itself does."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    labels = host.split(".")
    under_suffix = len(labels[-1]) == 2 and len(labels) >= 2 and labels[-2] in _SUFFIX_LABELS
    size = 3 if under_suffix else 2
    return ".".join(labels[-size:]) if len(labels) >= size else None


def stays_with_provider(url: str, base_url: str) -> bool:
    """Whether `url` is on the base URL's host, or another host of its registrable domain, with
    the same scheme and port."""
    given, base = _origin(url), _origin(base_url)
    if given is None or base is None:
        return False
    if given[0] != base[0] or given[2] != base[2]:
        return False
    host, base_host = given[1], base[1]
    if host == base_host:
        return True
    site = _site(base_host)
    return site is not None and (host == site or host.endswith("." + site))


def checked(context: ProviderContext, url: str, what: str) -> str:
    """`url`, if it may be sent the provider's key; an `UpstreamError` if not."""
    if stays_with_provider(url, context.base_url):
        return url
    origin = _origin(url)
    host = origin[1] if origin else None
    raise UpstreamError(
        f"{context.info.name} handed back a {what} outside its configured base URL: not "
        "following it, so as not to send the gateway's key elsewhere",
        detail=f"{what} on {host or 'an unusable URL'}; base URL {context.base_url}",
    )
