"""`imagegate.Gateway`: the gateway in your own process, no server needed.

    async with Gateway(settings) as gateway:
        result = await gateway.generate(ImageRequest(model="sandbox/image", prompt="a fox"))

It runs the same engine as `imagegate serve` (routing, retries, validation against the
catalog, records and charges), opened on an in-memory SQLite database unless the settings name
a database (`database_url`). Errors are the gateway's own (`imagegate.errors`).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from types import TracebackType

from imagegate.catalog.catalog import Catalog, ModelView
from imagegate.config import Settings, load_settings
from imagegate.core.request import ImageRequest
from imagegate.core.result import ImageResult
from imagegate.db.media import StoredVideo
from imagegate.gateway.service import Gateway as Engine
from imagegate.gateway.stream import GenerationStream, ReplayedStream
from imagegate.library.database import IN_MEMORY, with_database
from imagegate.library.listing import find_model, list_models
from imagegate.library.stream import ImageStream
from imagegate.providers.served_catalog import build_catalog


class Gateway:
    """Opened by `async with` (or `await gateway.open()`, then `await gateway.close()`).

    `settings`: default `Settings()`, i.e. the `IMAGEGATE_*` environment variables and the data
    directory's config file, when there is one (it is only read). `env`: where provider keys
    are read (`OPENAI_API_KEY`, ...); default `os.environ`. With none set, the sandbox models
    are the ones available. `surface`: the name this gateway's generation records carry.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        env: Mapping[str, str] | None = None,
        surface: str = "library",
    ) -> None:
        self.settings = with_database(settings if settings is not None else load_settings())
        self.surface = surface
        self._env = env
        self._engine: Engine | None = None
        self._streams: set[ImageStream] = set()
        # videos of a gateway on its in-memory database live as long as it (see `open`)
        self._videos: tempfile.TemporaryDirectory[str] | None = None

    @cached_property
    def catalog(self) -> Catalog:
        """The catalog as this gateway serves it: built once, shared with the engine."""
        settings = self.settings
        return build_catalog(settings.user_catalog, self._env, settings.max_prompt_length)

    @property
    def engine(self) -> Engine:
        """The engine underneath, once open: its stores (`engine.records`) and the rest."""
        if self._engine is None:
            raise RuntimeError("the gateway is not open: use `async with Gateway(...)`")
        return self._engine

    async def open(self) -> Gateway:
        if self._engine is None:
            settings = self.settings
            if settings.database_url == IN_MEMORY and settings.media_dir is None:
                # its records go with it on close, so do its videos: no file it was not
                # asked for is left behind (save one with `save_video`)
                self._videos = tempfile.TemporaryDirectory(prefix="imagegate-videos-")
                settings = settings.model_copy(update={"media_dir": Path(self._videos.name)})
            self._engine = await Engine.open(settings, catalog=self.catalog, env=self._env)
        return self

    async def close(self) -> None:
        """Settles streams left unread, then lets go of the database and connections."""
        for stream in list(self._streams):
            await stream.aclose()
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.close()
        videos, self._videos = self._videos, None
        if videos is not None:
            await asyncio.to_thread(videos.cleanup)

    async def __aenter__(self) -> Gateway:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def generate(
        self, request: ImageRequest, *, idempotency_key: str | None = None
    ) -> ImageResult:
        """Generates, retrying and falling back as the settings say; recorded and charged
        once. A repeat with the same `idempotency_key` returns the stored result."""
        return await self.engine.generate(
            replace(request, stream=False), self.surface, idempotency_key=idempotency_key
        )

    async def save_video(self, video: StoredVideo, path: str | os.PathLike[str]) -> Path:
        """Writes a generated video (`ImageResult.videos`) from the media store to `path`, a
        piece at a time."""
        return await self.engine.media.copy_video(video.token, Path(path))

    def stream(self, request: ImageRequest, *, idempotency_key: str | None = None) -> ImageStream:
        """Partial images (ask for `partial_images=`) and text as they come, then the
        `ImageResult`. Nothing starts until the stream is iterated."""
        engine = self.engine
        streamed = replace(request, stream=True)

        async def start() -> GenerationStream | ReplayedStream:
            return await engine.stream(streamed, self.surface, idempotency_key=idempotency_key)

        stream = ImageStream(start, self._streams.discard)
        self._streams.add(stream)
        return stream

    def models(
        self,
        *,
        supports: Iterable[str] = (),
        output_modalities: Iterable[str] | None = None,
        input_modalities: Iterable[str] | None = None,
        providers: Iterable[str] | None = None,
        search: str | None = None,
        max_price: Decimal | float | str | None = None,
        free: bool | None = None,
        include_unavailable: bool = False,
        sort: str = "date",
    ) -> list[ModelView]:
        """The models that meet every filter, available ones only unless
        `include_unavailable`. `supports`, `providers` and `max_price` hold on one endpoint at
        once, so a listed model can be routed with exactly them. `sort`: date (newest first),
        name, price, price_desc, provider, author or id. Needs no `open`."""
        return list_models(
            self.catalog,
            supports=supports,
            output_modalities=output_modalities,
            input_modalities=input_modalities,
            providers=providers,
            search=search,
            max_price=max_price,
            free=free,
            include_unavailable=include_unavailable,
            sort=sort,
        )

    def model(self, name: str) -> ModelView:
        """One model by id or alias, with all its endpoints (see `available` on each);
        `NotFound`, naming the closest ids, for a name the catalog does not know."""
        return find_model(self.catalog, name)
