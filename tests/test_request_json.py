"""A job keeps its request as JSON: written and read back, it is the request it was."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from imagegate.core.request import ImageRequest, MaxPrice, RoutingOptions
from imagegate.core.request_json import request_from_json, request_to_json
from imagegate.media.sources import ImageSource


def test_every_field_survives_storage() -> None:
    request = ImageRequest(
        model="openai/gpt-image-1",
        prompt="a lighthouse at dusk",
        parameters={"size": "1024x1024", "n": 2, "quality": "high"},
        reference_sources=(
            ImageSource("input_references[0]", text="https://example.com/a.png"),
            ImageSource("image[1]", data=b"\x89PNG\r\n\x1a\n\x00\xff", content_type="image/png"),
        ),
        mask_source=ImageSource("mask", text="data:image/png;base64,iVBORw0KGgo="),
        modalities=frozenset({"image", "text"}),
        max_text_tokens=64,
        routing=RoutingOptions(
            order=("openai", "azure"),
            only=frozenset({"openai", "azure"}),
            ignore=frozenset({"fal"}),
            allow_fallbacks=False,
            require_parameters=True,
            sort="price",
            max_price=MaxPrice(image=Decimal("0.04"), request=Decimal("0.1")),
            options={"openai": {"moderation": "low"}},
        ),
        fallback_models=("google/gemini-2.5-flash-image",),
        user="end-user-7",
        user_agent="OpenAI/Python 2.8.1",
    )
    stored = orjson.loads(orjson.dumps(request_to_json(request)))  # as the row holds it
    assert request_from_json(stored) == request


def test_a_request_with_loaded_images_is_refused() -> None:
    from imagegate.media.images import InputImage

    image = InputImage(b"\x89PNG", "png", 1, 1)
    with pytest.raises(ValueError, match="sources"):
        request_to_json(ImageRequest(model="m", prompt="p", references=[image]))
