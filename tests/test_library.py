"""The library face (`from imagegate import Gateway, ...`): a gateway in the test's own process,
as a user's script or notebook runs it, with real images, records and charges."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import imagegate
from conftest import OVERLAY, PROVIDER_KEYS
from imagegate import (
    Gateway,
    ImageRequest,
    ImageResult,
    PartialImage,
    RoutingOptions,
    Settings,
    SyncGateway,
    TextDelta,
)
from imagegate.catalog.parameters import PARAMETERS

# The overlay catalog prices test/png-only (served by the sandbox): $0.01 an output image,
# $0.005 an input image.
PRICED = "test/png-only"


def _settings(**overrides: Any) -> Settings:
    """The overlay catalog, one attempt per request; provider keys come from `env={}`."""
    return Settings(catalog=OVERLAY, retries=0, circuit_threshold=0, **overrides)


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    async with Gateway(_settings(), env={}) as opened:
        yield opened


async def test_the_image_follows_the_aspect_ratio_keyword(gateway: Gateway) -> None:
    request = ImageRequest(model="sandbox/image", prompt="a fox", aspect_ratio="16:9")
    result = await gateway.generate(request)
    assert isinstance(result, ImageResult)
    assert result.images[0].pixel_size() == (1344, 768)
    tall = await gateway.generate(
        ImageRequest(model="sandbox/image", prompt="a fox", size="300x600")
    )
    with tall.images[0].to_pil() as image:
        assert image.size == (300, 600)


async def test_cost_and_record_are_real_and_readable_through_the_engine(gateway: Gateway) -> None:
    reference = Image.new("RGB", (64, 64), (200, 30, 30))
    request = ImageRequest(model=PRICED, prompt="a fox", n=2, references=[reference])
    result = await gateway.generate(request)
    assert len(result.images) == 2
    assert result.cost_usd == Decimal("0.025")  # two images out, one in
    record = await gateway.engine.records.get(result.id)
    assert record is not None
    assert record["status"] == "succeeded" and record["surface"] == "library"
    assert record["cost_usd"] == Decimal("0.025") and record["images"] == 2
    assert record["parameters"]["n"] == 2
    assert [attempt["status"] for attempt in record["attempts"]] == [200]


async def test_reference_images_from_paths_bytes_and_pil_reach_the_provider(
    gateway: Gateway, tmp_path: Path
) -> None:
    path = tmp_path / "ref.png"
    Image.new("RGB", (80, 60), (0, 0, 255)).save(path)
    webp = tmp_path / "ref.webp"
    Image.new("RGB", (80, 60), (0, 255, 0)).save(webp)
    plain = ImageRequest(model=PRICED, prompt="a fox", seed=3)
    given = dataclasses.replace(plain, references=(str(path), webp.read_bytes()))
    # replace() keeps what the constructor made of them: sources for the gateway to load
    assert [source.label for source in given.reference_sources] == [
        f"references[0] ({path})",
        "references[1]",
    ]
    without, with_references = await gateway.generate(plain), await gateway.generate(given)
    assert with_references.cost_usd - without.cost_usd == Decimal("0.01")  # 2 inputs at $0.005
    assert with_references.images[0].data != without.images[0].data
    record = await gateway.engine.records.get(with_references.id)
    assert record is not None and record["parameters"]["input_references"] == 2


async def test_a_reference_that_is_no_image_is_an_invalid_request(gateway: Gateway) -> None:
    with pytest.raises(FileNotFoundError):
        ImageRequest(model=PRICED, prompt="x", references=["no/such/file.png"])
    with pytest.raises(imagegate.InvalidRequest) as refused:
        await gateway.generate(ImageRequest(model=PRICED, prompt="x", references=[b"not an image"]))
    assert refused.value.kind == "invalid_request" and refused.value.param == "references[0]"


async def test_streaming_yields_partial_images_before_the_result(gateway: Gateway) -> None:
    request = ImageRequest(model="sandbox/image-text", prompt="a lighthouse", partial_images=2)
    stream = gateway.stream(request)
    events = [event async for event in stream]
    kinds = [type(event) for event in events]
    assert kinds[-1] is ImageResult and kinds.count(ImageResult) == 1
    partials = [event for event in events if isinstance(event, PartialImage)]
    assert [partial.index for partial in partials] == [0, 1]
    assert kinds.index(PartialImage) < kinds.index(ImageResult)
    assert any(isinstance(event, TextDelta) for event in events)
    result = events[-1]
    assert stream.result is result and stream.id == result.id
    assert partials[0].image.pixel_size() == result.images[0].pixel_size()
    record = await gateway.engine.records.get(result.id)
    assert record is not None and record["streamed"] and record["status"] == "succeeded"


async def test_leaving_a_stream_early_cancels_it_uncharged(gateway: Gateway) -> None:
    request = ImageRequest(model="sandbox/image", prompt="a fox", partial_images=3)
    async with gateway.stream(request) as stream:
        async for event in stream:
            assert isinstance(event, PartialImage)
            break
    record = await gateway.engine.records.get(stream.id or "")
    assert record is not None and record["status"] == "failed"
    assert record["error_kind"] == "cancelled" and not record["cost_usd"]


async def test_a_stream_that_fails_before_output_raises_from_the_loop(gateway: Gateway) -> None:
    stream = gateway.stream(ImageRequest(model="sandbox/image", prompt="x", aspect_ratio="7:3"))
    with pytest.raises(imagegate.InvalidRequest) as refused:
        async for _ in stream:
            pass
    assert refused.value.param == "aspect_ratio"


async def test_errors_are_the_gateways_typed_errors_with_their_kinds(gateway: Gateway) -> None:
    with pytest.raises(imagegate.NotFound) as unknown:
        await gateway.generate(ImageRequest(model="sandbox/imag", prompt="x"))
    assert (
        unknown.value.kind == "not_found"
        and "sandbox/image" in unknown.value.metadata["suggestions"]
    )
    refused = RoutingOptions(options={"sandbox": {"fail": "content_policy"}})
    with pytest.raises(imagegate.ContentPolicy) as policy:
        await gateway.generate(ImageRequest(model="sandbox/image", prompt="x", routing=refused))
    error = policy.value
    assert isinstance(error, imagegate.GatewayError)
    assert (error.kind, error.status) == ("content_policy", 403)
    record = await gateway.engine.records.get(error.metadata["generation_id"])
    assert record is not None and record["status"] == "failed"
    assert record["error_kind"] == "content_policy" and not record["cost_usd"]


def test_an_unknown_keyword_is_a_type_error_naming_the_close_ones() -> None:
    with pytest.raises(TypeError, match=r"'aspect'.*'aspect_ratio'"):
        ImageRequest(model="sandbox/image", prompt="x", aspect="16:9")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="seed given both"):
        ImageRequest(model="sandbox/image", prompt="x", parameters={"seed": 1}, seed=2)


def test_keywords_fold_into_parameters_and_survive_replace() -> None:
    request = ImageRequest(model="m", prompt="p", parameters={"n": 2}, aspect_ratio="16:9", seed=0)
    assert request.parameters == {"n": 2, "aspect_ratio": "16:9", "seed": 0}
    again = dataclasses.replace(request, stream=True)
    assert again.parameters == request.parameters and again.stream
    surface_dict = {"size": "1024x768"}  # as a surface builds it: kept as given
    assert ImageRequest(model="m", prompt="p", parameters=surface_dict).parameters is surface_dict


def test_the_keywords_are_the_catalogs_request_parameters() -> None:
    from imagegate.core.request import NAMED_PARAMETERS

    images = {"input_references", "mask", "first_frame", "last_frame"}  # given as images
    assert set(NAMED_PARAMETERS) == set(PARAMETERS) - images


def test_listing_filters_really_filter() -> None:
    gateway = Gateway(_settings(), env={})  # listing opens nothing
    everything = gateway.models(include_unavailable=True)
    assert {view.model.id for view in gateway.models()} < {view.model.id for view in everything}
    masked = gateway.models(supports=["mask", "aspect_ratio"], include_unavailable=True)
    assert 0 < len(masked) < len(gateway.models(supports=["mask"], include_unavailable=True))
    for view in masked:
        assert any({"mask", "aspect_ratio"} <= e.parameter_names for e in view.endpoints)
    on_fal = gateway.models(providers=["fal"], max_price="0.02", include_unavailable=True)
    assert 0 < len(on_fal) < len(gateway.models(providers=["fal"], include_unavailable=True))
    for view in on_fal:
        assert any(
            e.provider.slug == "fal" and e.price_min <= Decimal("0.02") for e in view.endpoints
        )
    cheapest = gateway.models(sort="price", include_unavailable=True)
    prices = [view.price_min for view in cheapest]
    assert prices == sorted(prices) and prices[0] < prices[-1]
    view = gateway.model("sandbox/image")
    (endpoint,) = [e for e in view.endpoints if e.provider.slug == "sandbox"]
    assert "16:9" in endpoint.parameters["aspect_ratio"].values  # type: ignore[union-attr]
    assert endpoint.endpoint.pricing and endpoint.available
    with pytest.raises(imagegate.InvalidRequest, match="unknown parameter"):
        gateway.models(supports=["colour"])
    with pytest.raises(imagegate.NotFound):
        gateway.model("nobody/nothing")


async def test_the_sync_gateway_works_inside_a_running_event_loop() -> None:
    asyncio.get_running_loop()  # as in a notebook's cell
    with SyncGateway(_settings(), env={}) as gateway:
        result = gateway.generate(ImageRequest(model="sandbox/image", prompt="x", size="320x200"))
        assert result.images[0].pixel_size() == (320, 200)
        request = ImageRequest(model="sandbox/image", prompt="x", partial_images=1)
        kinds = [type(event) for event in gateway.stream(request)]
        assert kinds == [PartialImage, ImageResult]
        with pytest.raises(imagegate.NotFound):
            gateway.generate(ImageRequest(model="nobody/nothing", prompt="x"))


def test_save_writes_the_bytes_or_converts_for_another_extension(tmp_path: Path) -> None:
    with SyncGateway(_settings(), env={}) as gateway:
        image = gateway.generate(ImageRequest(model="sandbox/image", prompt="x")).images[0]
    assert image.format == "png"
    assert image.save(tmp_path / "same.png").read_bytes() == image.data
    with Image.open(image.save(tmp_path / "other.jpg")) as converted:
        assert converted.format == "JPEG" and converted.size == image.pixel_size()


async def test_a_named_database_keeps_the_records(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    async with Gateway(_settings(database_url=url), env={}) as gateway:
        generated = await gateway.generate(ImageRequest(model=PRICED, prompt="x"))
    async with Gateway(_settings(database_url=url), env={}) as gateway:
        record = await gateway.engine.records.get(generated.id)
    assert record is not None and record["cost_usd"] == Decimal("0.01")


def test_no_file_appears_under_home(tmp_path: Path) -> None:
    """Settings() and Gateway() with no arguments, as a user's script: the library writes
    nothing, not even ~/.imagegate."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    script = textwrap.dedent(
        """
        import asyncio
        import imagegate
        from imagegate import ImageRequest

        async def main():
            async with imagegate.Gateway(imagegate.Settings()) as gateway:
                await gateway.generate(ImageRequest(model="sandbox/image", prompt="a"))
                async for _ in gateway.stream(ImageRequest(model="sandbox/image", prompt="b")):
                    pass
            async with imagegate.Gateway() as gateway:
                await gateway.generate(ImageRequest(model="sandbox/image", prompt="c"))

        asyncio.run(main())
        with imagegate.SyncGateway() as gateway:
            result = gateway.generate(ImageRequest(model="sandbox/image", prompt="d"))
            assert gateway.models(supports=["seed"])
        print(result.id)
        """
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PROVIDER_KEYS and not key.startswith("IMAGEGATE_")
    }
    env["HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gen-")
    assert list(home.rglob("*")) == [] and list(work.rglob("*")) == []


def test_the_public_names_are_exported_lazily() -> None:
    for name in imagegate.__all__:
        assert getattr(imagegate, name) is not None
        assert name in dir(imagegate)
    assert imagegate.Gateway.__module__ == "imagegate.library.gateway"
    # `import imagegate` (and with it the CLI's --help) loads none of the engine
    probe = (
        "import imagegate, sys; print(sorted(m for m in sys.modules if m.startswith('imagegate')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['imagegate', 'imagegate.version']"


def test_interrupting_a_sync_call_cancels_its_generation(tmp_path: Path) -> None:
    """Ctrl-C in a script or notebook stops the generation it was waiting for: recorded as
    cancelled, not charged, and the call returns at once rather than when the provider answers."""
    database = tmp_path / "records.db"
    script = textwrap.dedent(
        f"""
        import os, signal, threading, time
        from imagegate import ImageRequest, RoutingOptions, Settings, SyncGateway

        slow = RoutingOptions(options={{"sandbox": {{"delay_ms": 20000}}}})
        settings = Settings(database_url="sqlite+aiosqlite:///{database}", catalog="{OVERLAY}")
        with SyncGateway(settings, env={{}}) as gateway:
            threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
            began = time.monotonic()
            try:
                gateway.generate(ImageRequest(model="{PRICED}", prompt="x", routing=slow))
            except KeyboardInterrupt:
                print(round(time.monotonic() - began))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert int(done.stdout) < 5
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT status, error_kind, cost_usd FROM generations").fetchall()
    assert [(status, kind, float(cost or 0)) for status, kind, cost in rows] == [
        ("failed", "cancelled", 0.0)
    ]
