"""Fake upstream servers, one module per provider, found by discovery (no shared registry)."""

from __future__ import annotations

import importlib
import os
import pkgutil

from fakes.base import FakeServer


def only() -> set[str] | None:
    """`FAKES_ONLY=google,fal` limits the contract suite to those providers (for working on one
    provider at a time); unset in CI, where every provider runs."""
    value = os.environ.get("FAKES_ONLY")
    return {item.strip() for item in value.split(",")} if value else None


def all_fakes() -> dict[str, type[FakeServer]]:
    found: dict[str, type[FakeServer]] = {}
    wanted = only()
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base" or (wanted is not None and module.name not in wanted):
            continue
        loaded = importlib.import_module(f"fakes.{module.name}")
        for value in vars(loaded).values():
            is_fake = isinstance(value, type) and issubclass(value, FakeServer)
            if is_fake and value is not FakeServer and getattr(value, "provider", None):
                found[value.provider] = value
    return found
