"""The built-in sandbox provider: offline, free, deterministic."""

from __future__ import annotations


class SandboxProvider:
    """Renders images locally; needs no key and no network."""
