"""Routing: which endpoint serves a request, retries and fallbacks, and endpoint health."""
