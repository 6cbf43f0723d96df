"""Whose records a caller may ask for by `api_key_hash` (the generation list, activity).

A key sees only its own: naming any other key is a 403, whether that key exists or not, so a
key cannot probe for others. The operator (master key, or protected mode) sees everyone's by
default and may name any key; one that does not exist is a 404.
"""

from __future__ import annotations

from imagegate.accounting.caller import Caller
from imagegate.accounting.keys import KeyStore
from imagegate.errors import Forbidden, NotFound


async def scoped_key(keys: KeyStore, caller: Caller, key_hash: str | None, what: str) -> str | None:
    """The key whose `what` (e.g. "generations") are read; None: everyone's."""
    if key_hash is None:
        return None if caller.is_operator else caller.key_id
    if not caller.is_operator:
        if key_hash != caller.key_id:
            raise Forbidden(
                f"a key sees only its own {what}: 'api_key_hash' may name only the calling key "
                "(the master key may name any)",
                param="api_key_hash",
            )
    elif await keys.get(key_hash) is None:
        raise NotFound(f"no API key {key_hash!r}", param="api_key_hash")
    return key_hash
