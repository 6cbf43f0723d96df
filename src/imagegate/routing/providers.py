"""What the router needs of the providers: the adapter for a provider slug."""

from __future__ import annotations

from typing import Protocol

from imagegate.providers.base import Provider


class Providers(Protocol):
    def get(self, slug: str) -> Provider: ...
