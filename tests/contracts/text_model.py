"""A model that writes text as well as images, on OpenRouter's chat path, for tests that need
one. The bundled catalog has none left on OpenRouter (the Gemini image previews it listed are
retired), so a user catalog adds Google's GA Nano Banana 2 as OpenRouter serves it (`NATIVE`)
under a test id of its own: the bundled catalog keeps the GA id as an alias of the preview."""

from __future__ import annotations

TEXT_MODEL = "test/nano-banana-2"
NATIVE = "google/gemini-3.1-flash-image"
RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
TEXT_MODEL_CATALOG = {
    "models": [
        {
            "id": TEXT_MODEL,
            "name": "Nano Banana 2",
            "description": "Gemini 3.1 Flash Image: images with text, on OpenRouter.",
            "created": "2026-05-28",
            "input_modalities": ["text", "image"],
            "output_modalities": ["image", "text"],
            "endpoints": [
                {
                    "provider": "openrouter",
                    "native_id": NATIVE,
                    "fixed": {"modalities": ["image", "text"]},
                    "parameters": {
                        "aspect_ratio": {
                            "type": "enum",
                            "values": [*RATIOS, "1:4", "4:1", "1:8", "8:1"],
                        },
                        "resolution": {"type": "enum", "values": ["512", "1K", "2K", "4K"]},
                        "input_references": {"type": "range", "min": 1, "max": 14},
                    },
                    "pricing": [
                        {"billable": "input_text", "unit": "token", "cost_usd": 5e-07},
                        {"billable": "output_text", "unit": "token", "cost_usd": 3e-06},
                        {"billable": "output_image", "unit": "token", "cost_usd": 6e-05},
                        {"billable": "output_image", "unit": "image", "cost_usd": 0.067},
                    ],
                    "supports_streaming": True,
                    "source": "a test's user catalog",
                }
            ],
        }
    ]
}
