"""Fault switches are the operator's: a key must not make an endpoint fail (and its circuit
open) for every other key."""

from __future__ import annotations

from collections.abc import Iterable

from imagegate.core.validate import PreparedCall
from imagegate.errors import Forbidden
from imagegate.providers.base import operator_options
from imagegate.routing.providers import Providers


def refuse_fault_switches(calls: Iterable[PreparedCall], providers: Providers) -> None:
    """A 403 for a caller who is not the operator and sends a provider's fault switch."""
    for call in calls:
        if not call.options:
            continue
        reserved = sorted(call.options.keys() & operator_options(providers.get(call.provider)))
        if reserved:
            raise Forbidden(
                f"provider.options.{call.provider}.{reserved[0]} is a fault switch for the "
                "gateway's operator (the master key, or a gateway that has no keys)",
                param=f"provider.options.{call.provider}.{reserved[0]}",
            )
