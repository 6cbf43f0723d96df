"""A synthetic user catalog of many models, for measuring discovery at scale.

Every model is served by one to three of five providers that all use the sandbox adapter (so
each is routable and listed with no keys), with varied modalities, parameters, prices and
dates, so filters and sorts have real work to do.
"""

from __future__ import annotations

import random
from typing import Any

PROVIDERS = [
    {"slug": f"bench-{letter}", "name": f"Bench {letter.upper()}", "adapter": "sandbox"}
    for letter in "abcde"
]
ASPECT_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9", "21:9"]
OPTIONAL = {
    "seed": {"type": "range", "min": 0, "max": 4294967295},
    "n": {"type": "range", "min": 1, "max": 4},
    "output_format": {"type": "enum", "values": ["png", "jpeg", "webp"]},
    "background": {"type": "enum", "values": ["auto", "opaque", "transparent"]},
    "resolution": {"type": "enum", "values": ["1K", "2K", "4K"]},
    "input_references": {"type": "range", "min": 1, "max": 8},
}


def synthetic_catalog(models: int, seed: int = 5) -> dict[str, Any]:
    rng = random.Random(seed)
    entries = []
    for number in range(models):
        takes_images = rng.random() < 0.5
        parameters: dict[str, Any] = {
            "aspect_ratio": {"type": "enum", "values": rng.sample(ASPECT_RATIOS, rng.randint(2, 8))}
        }
        for name, descriptor in OPTIONAL.items():
            if name == "input_references" and not takes_images:
                continue
            if rng.random() < 0.6:
                parameters[name] = descriptor
        providers = rng.sample(PROVIDERS, rng.randint(1, 3))
        created = f"20{rng.randint(22, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        entries.append(
            {
                "id": f"bench/model-{number:05d}",
                "name": f"Bench Model {number}",
                "description": f"Synthetic model {number} for the discovery benchmark.",
                "created": created,
                "input_modalities": ["text", "image"] if takes_images else ["text"],
                "output_modalities": ["image", "text"] if rng.random() < 0.2 else ["image"],
                "endpoints": [
                    {
                        "provider": provider["slug"],
                        "native_id": "image",
                        "parameters": parameters,
                        "pricing": [
                            {
                                "billable": "output_image",
                                "unit": "image",
                                "cost_usd": round(rng.uniform(0.001, 0.2), 4),
                            }
                        ],
                        "source": "benchmarks/synthetic_catalog.py",
                    }
                    for provider in providers
                ],
            }
        )
    return {"providers": PROVIDERS, "models": entries}
