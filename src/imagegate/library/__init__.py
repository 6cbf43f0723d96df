"""The gateway as a Python library: the public face `imagegate` re-exports (see docs/library.md).

A small layer above the engine (`imagegate.gateway.Gateway`): it opens the engine with an
in-memory database unless given one, lists the catalog through the catalog's own query, and
turns the engine's streams into something to `async for` over. The engine knows nothing of it.
"""
