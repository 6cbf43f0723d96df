"""One adapter instance per configured provider, made when first needed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aiohttp

from imagegate.catalog.catalog import Catalog
from imagegate.media.fetch import SafeFetcher
from imagegate.providers.base import Provider, ProviderContext
from imagegate.providers.registry import load_adapter


class ProviderPool:
    def __init__(
        self,
        catalog: Catalog,
        http: aiohttp.ClientSession,
        fetcher: SafeFetcher,
        env: Mapping[str, str],
        timeout_seconds: float,
        scratch: Path | None = None,
    ) -> None:
        self._catalog = catalog
        self._http = http
        self._fetcher = fetcher
        self._env = env
        self._timeout = timeout_seconds
        self._scratch = scratch
        self._adapters: dict[str, Provider] = {}

    def use_catalog(self, catalog: Catalog) -> None:
        """A reloaded catalog: adapters of providers whose record changed are made again."""
        self._adapters = {
            slug: adapter
            for slug, adapter in self._adapters.items()
            if catalog.providers.get(slug) == self._catalog.providers.get(slug)
        }
        self._catalog = catalog

    def get(self, slug: str) -> Provider:
        adapter = self._adapters.get(slug)
        if adapter is None:
            info = self._catalog.providers[slug]
            factory = load_adapter(info.adapter_name)
            context = ProviderContext(
                info=info,
                http=self._http,
                fetcher=self._fetcher,
                env=self._env,
                timeout_seconds=self._timeout,
                **({"scratch": self._scratch} if self._scratch is not None else {}),
            )
            adapter = self._adapters[slug] = factory(context)
        return adapter
