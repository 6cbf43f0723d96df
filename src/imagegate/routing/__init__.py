"""Routing: which endpoints serve a request, in what order, and the attempts until one does
(`router.py` is the front door; docs/routing.md has the map)."""
