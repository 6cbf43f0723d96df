"""Loading a request's input images: from a data URI, bare base64, an http(s) URL (fetched
safely) or an uploaded file, each checked (`media.images`) before anything trusts it.

Decoding base64 and checking an image's bytes run in the CPU pool, one image at a time, so a
request with eight large references never stalls the event loop; an image that came as base64
keeps that text rather than its decoded bytes (`InputImage`). Every malformed value is a 400
naming its field (`input_references[2]`, `image[0]`).
"""

from __future__ import annotations

from functools import partial

from imagegate.errors import InvalidRequest
from imagegate.media.cpu import run_cpu
from imagegate.media.data_uri import decode_base64, is_data_uri, parse_data_uri
from imagegate.media.fetch import SafeFetcher
from imagegate.media.formats import media_type_format
from imagegate.media.images import InputImage, load_input_image
from imagegate.media.limits import MediaLimits
from imagegate.media.sources import ImageSource
from imagegate.media.urls import image_url, looks_like_url


class InputLoader:
    def __init__(self, limits: MediaLimits, fetcher: SafeFetcher) -> None:
        self.limits = limits
        self.fetcher = fetcher

    async def load_all(
        self,
        references: tuple[InputImage, ...],
        sources: tuple[ImageSource, ...],
        mask: InputImage | None,
        mask_source: ImageSource | None,
    ) -> tuple[tuple[InputImage, ...], InputImage | None]:
        """A request's references and mask, loaded: those it sent as URLs, base64 or files
        (`sources`) after those that arrived decoded, all counted against the limit first."""
        self.check_count(len(references) + len(sources))
        loaded = [await self.load(source) for source in sources]
        if mask_source is not None:
            mask = await self.load(mask_source)
        return (*references, *loaded), mask

    async def load(self, source: ImageSource) -> InputImage:
        if source.data is not None:
            return await self.uploaded(source.data, source.content_type, source.label)
        assert source.text is not None
        return await self.reference(source.text, source.label)

    async def reference(self, source: str, what: str) -> InputImage:
        """A reference image from a data URI, bare base64, or an http(s) URL."""
        if is_data_uri(source):
            return await run_cpu(partial(self._from_text, source, what, data_uri=True))
        if looks_like_url(source):
            url = image_url(source.strip(), what)
            data, content_type = await self.fetcher.fetch(
                url, what=what, max_bytes=self.limits.max_image_bytes
            )
            declared = media_type_format(content_type) if content_type else None
            return await self._checked(data, declared, what)
        return await run_cpu(partial(self._from_text, source, what, data_uri=False))

    async def uploaded(self, data: bytes, content_type: str | None, what: str) -> InputImage:
        declared = media_type_format(content_type) if content_type else None
        if declared is None and content_type not in (None, "", "application/octet-stream"):
            raise InvalidRequest(
                f"{what} has content type {content_type}; send a PNG, JPEG or WebP image",
                param=what,
            )
        return await self._checked(data, declared, what)

    def check_count(self, count: int) -> None:
        limit = self.limits.max_input_images
        if count > limit:
            raise InvalidRequest(
                f"{count} input images; the limit is {limit}", param="input_references"
            )

    async def _checked(self, data: bytes, declared: str | None, what: str) -> InputImage:
        check = partial(load_input_image, data, self.limits, declared=declared, what=what)
        return await run_cpu(check)

    def _from_text(self, text: str, what: str, *, data_uri: bool) -> InputImage:
        """In the pool: a data URI or bare base64, decoded and checked; the image keeps the
        text, and these bytes are dropped."""
        start, declared = parse_data_uri(text, what) if data_uri else (0, None)
        data = decode_base64(text, what, start)
        return load_input_image(
            data, self.limits, declared=declared, what=what, text=text, offset=start
        )
