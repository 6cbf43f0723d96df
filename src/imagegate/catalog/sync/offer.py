"""What one upstream listing says, in catalog terms where the mapping is certain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# a GET of `url` with query `params`, answering the decoded JSON body
Fetch = Callable[[str, Sequence[tuple[str, str]]], Awaitable[Any]]


class ListingError(Exception):
    """A listing answer that could not be used: an HTTP error, a body that is not JSON, or one
    without the fields the listing's documentation promises."""


class ListingNotFound(ListingError):
    """A 404: the upstream does not have what was asked for."""


@dataclass(frozen=True, slots=True)
class MappedParameters:
    parameters: dict[str, dict[str, Any]]  # catalog name -> descriptor (JSON form)
    native_names: dict[str, str]  # catalog name -> the upstream's, where they differ
    # the catalog names this listing describes: one of them missing upstream is a removal
    covered: frozenset[str]
    unmapped: tuple[str, ...] = ()


class ParameterSource(Protocol):
    def mapped(self, native_names: Mapping[str, str]) -> MappedParameters:
        """The upstream's inputs as catalog parameters, reading each catalog parameter under
        the endpoint's `native_names` entry where it has one."""
        ...


@dataclass(frozen=True, slots=True)
class Offer:
    """One model as one upstream lists it. `None` means the listing does not say (or says it
    in a way that does not map): such a field is never written."""

    provider: str
    native_id: str
    model_id: str | None  # the catalog id a new model would take
    name: str | None = None
    description: str | None = None
    created: dt.date | None = None
    input_modalities: tuple[str, ...] | None = None
    output_modalities: tuple[str, ...] | None = None
    pricing: tuple[dict[str, Any], ...] | None = None  # pricing lines (JSON form)
    unpriced: str | None = None  # why a listing that prices nothing gives no price
    # False when the listing gives one figure (fal): it replaces an endpoint's pricing only
    # where that endpoint has exactly one line of the same billable and unit
    pricing_complete: bool = True
    price_url: str | None = None  # the public listing URL the figure was read at
    parameters: ParameterSource | None = None
    supports_streaming: bool | None = None
    passthrough: tuple[str, ...] | None = None
    deprecated: bool = False
    unmapped: tuple[str, ...] = ()  # what the listing says that the catalog cannot hold


@dataclass(slots=True)
class Listing:
    provider: str
    url: str  # the public listing URL, for the report
    offers: list[Offer] = field(default_factory=list)
    # native ids of catalog endpoints the upstream no longer serves (confirmed by a complete
    # index or a direct lookup); an index that failed part-way confirms nothing
    gone: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # answers that could not be used
    notes: list[str] = field(default_factory=list)  # listing-wide unmapped fields

    def offer(self, native_id: str) -> Offer | None:
        return next((o for o in self.offers if o.native_id == native_id), None)


@dataclass(frozen=True, slots=True)
class ListingSource:
    """One upstream's listing API: where it is, how it is authenticated, and how to read it.

    `read(fetch, root, known)` reads the listing at `root`; `known` are the native ids of the
    catalog's live image endpoints at this provider, which the reader confirms or finds gone.
    """

    provider: str
    public_root: str  # the listing API's own address (also what written prices cite)
    read: Callable[[Fetch, str, frozenset[str]], Awaitable[Listing]]
    auth_scheme: str = "Bearer"  # the Authorization header's scheme word
    # the listing root when the provider's `base_url_env` is set (a proxy, a test's fake)
    root_from_base: Callable[[str], str] = lambda base: base.rstrip("/")
