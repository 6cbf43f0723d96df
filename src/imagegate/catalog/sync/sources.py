"""The upstream listings `imagegate catalog sync` reads, by provider slug."""

from __future__ import annotations

from imagegate.catalog.sync import deepinfra, fal, openrouter, replicate, together
from imagegate.catalog.sync.offer import ListingSource

SOURCES: dict[str, ListingSource] = {
    source.provider: source
    for source in (
        openrouter.SOURCE,
        replicate.SOURCE,
        together.SOURCE,
        deepinfra.SOURCE,
        fal.SOURCE,
    )
}
