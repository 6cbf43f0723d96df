"""Bundled catalog files, one per provider."""
