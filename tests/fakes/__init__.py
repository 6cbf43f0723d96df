"""Fake upstream servers, one module per provider, found by discovery (no shared registry)."""

from __future__ import annotations

import importlib
import pkgutil

from fakes.base import FakeServer


def all_fakes() -> dict[str, type[FakeServer]]:
    found: dict[str, type[FakeServer]] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base":
            continue
        loaded = importlib.import_module(f"fakes.{module.name}")
        for value in vars(loaded).values():
            is_fake = isinstance(value, type) and issubclass(value, FakeServer)
            if is_fake and value is not FakeServer and getattr(value, "provider", None):
                found[value.provider] = value
    return found
