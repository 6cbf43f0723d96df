"""OpenRouter: its Image API (`POST /images`) or chat completions (`POST /chat/completions`).

Which path, decided per call from catalog data: chat completions when the call wants text, the
endpoint's `fixed.modalities` says the model writes text on OpenRouter (the Gemini endpoints
carry `["image", "text"]`) and every parameter of the call has a place in a chat request
(`aspect_ratio`, `resolution`, `seed`, reference images); the Image API otherwise. So an
image-only model is never sent `modalities: ["image", "text"]` (OpenRouter answers that with a
404), and `n`, `quality`, `output_format`, ... always reach the API that has them. `modalities`
is the one `fixed` field that belongs to chat alone; every other `fixed` field goes on both paths.
A model without native streaming answers a streamed request with the buffered JSON, which is
read as such.

Video (a call whose modalities include `video`) has a third way in, OpenRouter's asynchronous
video API: `openrouter_videos.py`.

This module is the adapter and that choice. Each path's body and answers:
`openrouter_image_api.py` and `openrouter_chat.py`; what they share: `openrouter_media.py`
(images in and out), `openrouter_stream.py` (events), `openrouter_errors.py` (error mapping,
moderation) and `openrouter_cost.py` (usage, cost, BYOK).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from imagegate.providers.base import (
    ProviderCall,
    ProviderContext,
    ProviderEvent,
    ProviderResult,
)
from imagegate.providers.openrouter_chat import (
    CHAT_ONLY_FIXED,
    CHAT_PARAMETERS,
    chat_body,
    chat_chunks,
    chat_result,
)
from imagegate.providers.openrouter_errors import failure_of
from imagegate.providers.openrouter_image_api import (
    IMAGE_API_FIELDS,
    image_events,
    images_body,
    images_result,
)
from imagegate.providers.openrouter_videos import VIDEO_PARAMETERS, OpenRouterVideos
from imagegate.providers.upstream import UpstreamResponse, open_stream, send


def uses_chat(call: ProviderCall) -> bool:
    """Chat completions when text is wanted from a model that writes it and chat can carry
    every parameter; the Image API otherwise."""
    writes_text = "text" in (call.endpoint.fixed.get(CHAT_ONLY_FIXED) or ())
    return writes_text and "text" in call.modalities and set(call.parameters) <= CHAT_PARAMETERS


class OpenRouterProvider:
    handles = frozenset({*IMAGE_API_FIELDS, *VIDEO_PARAMETERS, "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _name(self) -> str:
        return self.context.info.name

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.context.api_key}"}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if "video" in call.modalities:
            return await OpenRouterVideos(self.context).generate(call)
        chat = uses_chat(call)
        response = await send(
            self.context,
            "POST",
            self._url(chat),
            json=chat_body(call) if chat else images_body(call),
            headers=self._headers,
        )
        if not response.ok:
            raise failure_of(self._name, response)
        return await self._result(chat, response.json())

    async def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        chat = uses_chat(call)
        body = {**(chat_body(call) if chat else images_body(call)), "stream": True}
        async with open_stream(
            self.context, self._url(chat), headers=self._headers, json=body
        ) as response:
            if response.content_type == "application/json":  # no native streaming: buffered
                buffered = UpstreamResponse(
                    self._name, response.status, response.headers, await response.read()
                ).json()
                yield await self._result(chat, buffered)
                return
            chunks = (
                chat_chunks(self.context, response)
                if chat
                else image_events(self.context, response, call)
            )
            async for event in chunks:
                yield event

    async def _result(self, chat: bool, body: Any) -> ProviderResult:
        """The result of a whole answer (not streamed, or buffered) on either path."""
        if chat:
            return await chat_result(self.context, body)
        return await images_result(self.context, body)

    def _url(self, chat: bool) -> str:
        return f"{self.context.base_url}/{'chat/completions' if chat else 'images'}"
