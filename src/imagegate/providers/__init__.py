"""Upstream adapters: one module per provider, registered as entry points."""
