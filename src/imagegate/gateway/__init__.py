"""The gateway service: one generation from request to recorded, charged result."""

from imagegate.gateway.headers import (
    COST_HEADER,
    DROPPED_HEADER,
    GENERATION_HEADER,
    REPLAYED_HEADER,
)
from imagegate.gateway.service import Gateway
from imagegate.gateway.stream import GenerationStream, ReplayedStream

__all__ = [
    "COST_HEADER",
    "DROPPED_HEADER",
    "GENERATION_HEADER",
    "REPLAYED_HEADER",
    "Gateway",
    "GenerationStream",
    "ReplayedStream",
]
