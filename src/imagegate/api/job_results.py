"""How each surface that can run as a job writes its result: the body its synchronous request
would have answered with, rendered from the stored `ImageResult`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imagegate.api.openrouter import images as openrouter_images
from imagegate.core.result import ImageResult

RESULT_BODIES: dict[str, Callable[[ImageResult], dict[str, Any]]] = {
    openrouter_images.SURFACE: openrouter_images.response_body,
}
