"""One `ProviderCase` per provider, in a module of its own, found by discovery."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

from fakes import only

GENERIC_EXPECTATIONS: dict[str, tuple[int, str | None]] = {
    "server_error": (502, "upstream_error"),
    "rate_limit": (429, "rate_limited"),
    "timeout": (504, "upstream_timeout"),
    "malformed": (502, "upstream_error"),
    "rejected": (400, "invalid_request"),
    "too_large": (502, "upstream_error"),
    "echo_key_401": (502, "upstream_error"),
    "echo_key_500": (502, "upstream_error"),
    "slow": (200, None),
    "empty": (502, "upstream_error"),
    "moderated": (403, "content_policy"),
    "request_moderated": (403, "content_policy"),
    "failed": (502, "upstream_error"),
    "expired": (502, "upstream_error"),
}


@dataclass(frozen=True)
class ProviderCase:
    provider: str  # the catalog slug
    model: str  # a model this provider serves, for text-to-image
    edit_model: str | None = None  # one that takes reference images here
    stream_model: str | None = None  # one this provider streams
    expectations: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # overrides
    body: dict = field(default_factory=dict)  # extra request fields the scenarios send

    def expected(self, fault: str) -> tuple[int, str | None]:
        if fault in self.expectations:
            return self.expectations[fault]
        return GENERIC_EXPECTATIONS[fault]


def all_cases() -> list[ProviderCase]:
    found = []
    wanted = only()
    for module in pkgutil.iter_modules(__path__):
        if wanted is not None and module.name not in wanted:
            continue
        loaded = importlib.import_module(f"contracts.cases.{module.name}")
        found.extend(value for value in vars(loaded).values() if isinstance(value, ProviderCase))
    return sorted(found, key=lambda case: case.provider)
