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


ANONYMOUS = Caller()
