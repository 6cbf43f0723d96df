"""Headers every generation response carries: its id, what was dropped, whether replayed."""

from __future__ import annotations

from imagegate.gateway import DROPPED_HEADER, GENERATION_HEADER, REPLAYED_HEADER


def generation_headers(
    generation_id: str, dropped: tuple[str, ...], replayed: bool = False
) -> dict[str, str]:
    headers = {GENERATION_HEADER: generation_id}
    if dropped:
        headers[DROPPED_HEADER] = ", ".join(dropped)
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return headers
