"""Which providers the gateway can serve right now.

A provider is configured when an adapter for it is registered and the variable holding its key
is set (a provider with no `key_env`, such as the sandbox, needs none). An endpoint is routable
exactly when its provider is configured; listings and the router both ask this one place.
"""

from __future__ import annotations

from collections.abc import Mapping

from imagegate.catalog.schema import ProviderInfo


def configured_providers(
    providers: Mapping[str, ProviderInfo], adapters: frozenset[str], env: Mapping[str, str]
) -> frozenset[str]:
    return frozenset(
        slug
        for slug, info in providers.items()
        if info.adapter_name in adapters and (info.key_env is None or env.get(info.key_env))
    )


def missing_configuration(info: ProviderInfo, adapters: frozenset[str]) -> str:
    """Why a provider can't be served, in words an operator can act on."""
    if info.adapter_name not in adapters:
        return f"imagegate has no adapter for {info.name} yet"
    return f"set {info.key_env} to use {info.name}"
