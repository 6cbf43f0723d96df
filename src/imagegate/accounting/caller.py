"""Who a generation is for: a key, the master key, or nobody in particular (protected mode)."""

from __future__ import annotations

from dataclasses import dataclass

from imagegate.accounting.keys import ApiKey


@dataclass(frozen=True, slots=True)
class Caller:
    key: ApiKey | None = None
    master: bool = False

    @property
    def key_id(self) -> str | None:
        return self.key.id if self.key else None

    @property
    def is_operator(self) -> bool:
        """The master key, or anyone in protected mode (no keys: loopback only). The operator
        sees what upstreams said in generation records, and may use the sandbox's fault
        switches; a key holder does neither."""
        return self.key is None


ANONYMOUS = Caller()
