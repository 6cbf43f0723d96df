"""Where a price was read, and when: the public page a buyer can open to check it.

A provider's own page wherever it publishes the price. An aggregator's page only where it does
not, marked `publisher: aggregator`. Where the provider's page could not be read, the figure
may come `via` a public copy of it (an aggregator quoting the provider). A price nobody could
find as the provider's own figure anywhere is kept `unconfirmed` (with the closest page seen as
`via`). `imagegate catalog check` lists both for re-verification. `gateway` is for prices
the gateway sets itself (the offline sandbox), which need no page.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Publisher = Literal["provider", "aggregator", "gateway"]
_PUBLIC_URL = r"^https://[^\s/]+\.[^\s/]+(/\S*)?$"


class PriceSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(default=None, pattern=_PUBLIC_URL)
    publisher: Publisher = "provider"
    verified_on: dt.date | None = None
    # a public page that quotes the provider's price, read where the provider's own could not be
    via: str | None = Field(default=None, pattern=_PUBLIC_URL)
    # the provider's own figure was not found, in its page or in a copy of it
    unconfirmed: bool = False

    @model_validator(mode="after")
    def _citable(self) -> PriceSource:
        if self.publisher != "gateway" and self.url is None:
            raise ValueError(f"a price published by a {self.publisher} needs its page's url")
        if self.publisher != "gateway" and self.verified_on is None:
            raise ValueError("a cited price needs the day it was checked (verified_on)")
        return self

    @property
    def first_hand(self) -> bool:
        """Read on the publisher's own page, not through a copy."""
        return self.via is None and not self.unconfirmed
