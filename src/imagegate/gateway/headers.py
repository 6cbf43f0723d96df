"""Response headers every surface sets from a generation."""

GENERATION_HEADER = "X-Imagegate-Generation-Id"
DROPPED_HEADER = "X-Imagegate-Dropped-Parameters"
REPLAYED_HEADER = "Idempotent-Replayed"
COST_HEADER = "X-Imagegate-Cost"  # USD, on answers that are not streamed
