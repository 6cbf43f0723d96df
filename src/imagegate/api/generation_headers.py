"""Headers every generation response carries: its id, and what was dropped."""

from __future__ import annotations

from imagegate.gateway import DROPPED_HEADER, GENERATION_HEADER


def generation_headers(generation_id: str, dropped: tuple[str, ...]) -> dict[str, str]:
    headers = {GENERATION_HEADER: generation_id}
    if dropped:
        headers[DROPPED_HEADER] = ", ".join(dropped)
    return headers
