"""Local diffusers adapter: a tiny random-weight pipeline, built offline, served by the gateway.

The test builds everything it loads (tests/tiny_pipeline.py) and runs with the Hugging Face hub
switched offline. What the pipeline was asked to do is read from the adapter's own log, which a
`sitecustomize` on the gateway's PYTHONPATH sends to the gateway's log file: one line right
before and one right after each pipeline call, timestamped, with the call's settings.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from PIL import Image

import tiny_pipeline
from conftest import Gateway, start_gateway
from imagegate.catalog.schema import Endpoint
from imagegate.errors import InvalidRequest, UpstreamError
from imagegate.providers import diffusers as adapter
from imagegate.providers.base import ProviderCall

MODEL = "local/tiny-sd"
LINKED = "local/tiny-sd-linked"  # the same files through a symlink: a second pipeline
MISSING = "local/missing"
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TRANSFORMERS_OFFLINE": "1"}
PRICE_PER_IMAGE = 0.001
IMPATIENT_TIMEOUT = 1.0
MARK = "DIFFUSERS-TRACE"
SITECUSTOMIZE = f"""
import logging, sys
handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("{MARK}\t%(created).6f\t%(threadName)s\t%(message)s"))
logger = logging.getLogger("imagegate.providers.diffusers")
logger.setLevel(logging.INFO)
logger.addHandler(handler)
"""


def _catalog(pipeline: Path, linked: Path, missing: Path) -> dict:
    def model(model_id: str, directory: Path, parameters: dict) -> dict:
        return {
            "id": model_id,
            "name": model_id,
            "description": "A tiny random-weight Stable Diffusion pipeline (tests).",
            "created": "2026-11-01",
            "input_modalities": ["text"],
            "output_modalities": ["image"],
            "endpoints": [
                {
                    "provider": "local",
                    "native_id": str(directory),
                    "fixed": {"num_inference_steps": 2},
                    "parameters": parameters,
                    "pricing": [
                        {"billable": "output_image", "unit": "image", "cost_usd": PRICE_PER_IMAGE}
                    ],
                    "source": "tests/contracts/test_diffusers_contract.py",
                }
            ],
        }

    parameters = {
        "n": {"type": "range", "min": 1, "max": 4},
        "aspect_ratio": {"type": "enum", "values": ["1:1", "16:9", "3:4", "9:16"]},
        "resolution": {"type": "enum", "values": ["512"]},
        "width": {"type": "range", "min": 64, "max": 1024, "step": 8},
        "height": {"type": "range", "min": 64, "max": 1024, "step": 8},
        "steps": {"type": "range", "min": 1, "max": 50},
        "guidance": {"type": "range", "min": 0, "max": 20},
        "negative_prompt": {"type": "boolean"},
        "seed": {"type": "range", "min": 0, "max": 4294967295},
    }
    return {
        "providers": [{"slug": "local", "name": "Local GPU", "adapter": "diffusers"}],
        "models": [
            model(MODEL, pipeline, parameters),
            model(LINKED, linked, parameters),
            model(MISSING, missing, {}),
        ],
    }


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in OFFLINE.items():
            patch.setenv(name, value)
        return tiny_pipeline.build(tmp_path_factory.mktemp("diffusers") / "tiny-sd")


def _start(home: Path, catalog: Path, **env: str) -> Gateway:
    """A gateway whose diffusers log lines go to its log file, with the hub offline."""
    trace = home / "trace"
    trace.mkdir()
    (trace / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join(filter(None, [str(trace), os.environ.get("PYTHONPATH")]))
    return start_gateway(home, catalog=catalog, PYTHONPATH=path, **OFFLINE, **env)


@pytest.fixture(scope="module")
def catalog(pipeline_dir: Path) -> Path:
    linked = pipeline_dir.parent / "tiny-sd-linked"
    linked.symlink_to(pipeline_dir, target_is_directory=True)
    path = pipeline_dir.parent / "catalog.json"
    path.write_bytes(orjson.dumps(_catalog(pipeline_dir, linked, pipeline_dir.parent / "nothing")))
    return path


@pytest.fixture(scope="module")
def local(catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = _start(tmp_path_factory.mktemp("diffusers-home"), catalog)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def impatient(catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A provider timeout shorter than a big batch."""
    home = tmp_path_factory.mktemp("diffusers-impatient-home")
    running = _start(home, catalog, IMAGEGATE_PROVIDER_TIMEOUT_SECONDS=str(IMPATIENT_TIMEOUT))
    yield running
    running.stop()


@pytest.fixture
def fresh(catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway that has loaded nothing yet."""
    running = _start(tmp_path_factory.mktemp("diffusers-fresh-home"), catalog)
    yield running
    running.stop()


@pytest.fixture
def http(local: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local.url, timeout=60) as http:
        yield http


@dataclass(frozen=True)
class Event:
    at: float
    thread: str
    message: str

    @property
    def settings(self) -> dict:
        return orjson.loads(self.message.split(" batch started ", 1)[1])


def _events(gateway: Gateway, since: int = 0) -> list[Event]:
    """The adapter's log lines written after byte `since` of the gateway's log."""
    with gateway.log.open("rb") as log:
        log.seek(since)
        lines = log.read().decode().splitlines()
    events = []
    for line in lines:
        if line.startswith(MARK + "\t"):
            _, at, thread, message = line.split("\t", 3)
            events.append(Event(float(at), thread, message))
    return events


def _batches(gateway: Gateway, since: int) -> list[Event]:
    return [e for e in _events(gateway, since) if " batch " in e.message]


def _generate(http: httpx.Client, model: str = MODEL, **fields) -> httpx.Response:
    return http.post("/api/v1/images", json={"model": model, "prompt": "a fox", **fields})


def _pictures(response: httpx.Response) -> list[Image.Image]:
    assert response.status_code == 200, response.text
    pictures = []
    for item in response.json()["data"]:
        assert item["media_type"] == "image/png"
        picture = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
        picture.load()
        pictures.append(picture)
    return pictures


@pytest.mark.parametrize(
    ("fields", "size"),
    [
        ({"aspect_ratio": "1:1", "resolution": "512"}, (512, 512)),
        ({"aspect_ratio": "16:9", "resolution": "512"}, (672, 384)),
        ({"aspect_ratio": "3:4", "resolution": "512"}, (432, 592)),
        ({"aspect_ratio": "9:16"}, (384, 672)),  # the endpoint's only resolution, 512
        ({"width": 200, "height": 120}, (200, 120)),
        ({"size": "256x192"}, (256, 192)),
        ({}, None),  # the pipeline's own default: 32 latents x 8 = 256
    ],
)
def test_sizes(local: Gateway, http: httpx.Client, fields: dict, size) -> None:
    since = local.log.stat().st_size
    pictures = _pictures(_generate(http, seed=3, **fields))
    assert [p.format for p in pictures] == ["PNG"]
    assert pictures[0].size == (size or (256, 256))
    started, finished = _batches(local, since)
    assert "batch finished" in finished.message
    sized = {"width": size[0], "height": size[1]} if size else {}
    assert started.settings == {
        "num_inference_steps": 2,  # the endpoint's fixed field
        **sized,
        "negative_prompt": False,
        "seed": 3,
    }


def test_parameters_reach_the_pipeline_and_n_images_are_priced(
    local: Gateway, http: httpx.Client
) -> None:
    since = local.log.stat().st_size
    response = _generate(
        http,
        aspect_ratio="16:9",
        resolution="512",
        steps=3,
        guidance=4.5,
        n=3,
        negative_prompt="blurry",
        seed=11,
    )
    pictures = _pictures(response)
    assert [p.size for p in pictures] == [(672, 384)] * 3
    assert len({p.tobytes() for p in pictures}) == 3  # one batch, three different images
    (started, _) = _batches(local, since)
    assert started.settings == {
        "num_inference_steps": 3,  # the request's steps over the fixed field
        "width": 672,
        "height": 384,
        "guidance_scale": 4.5,
        "num_images_per_prompt": 3,
        "negative_prompt": True,
        "seed": 11,
    }
    assert response.json()["usage"]["cost"] == pytest.approx(3 * PRICE_PER_IMAGE)
    assert response.json()["provider"] == "Local GPU"


def test_a_seed_reproduces_an_image_exactly(http: httpx.Client) -> None:
    def png(**fields) -> bytes:
        response = _generate(http, aspect_ratio="1:1", resolution="512", **fields)
        assert response.status_code == 200, response.text
        return base64.b64decode(response.json()["data"][0]["b64_json"])

    first = png(seed=7)
    assert png(seed=7) == first
    assert png(seed=8) != first
    assert png(seed=7, negative_prompt="blurry") != first  # the negative prompt is used
    assert png() != png()  # no seed: fresh noise each time


def test_one_pipeline_runs_one_batch_at_a_time(local: Gateway) -> None:
    with httpx.Client(base_url=local.url, timeout=60) as warm:
        assert warm.post("/api/v1/images", json={"model": MODEL, "prompt": "warm"}).is_success
    since = local.log.stat().st_size
    sent: dict[int, float] = {}

    def one(seed: int) -> httpx.Response:
        with httpx.Client(base_url=local.url, timeout=60) as http:
            sent[seed] = time.time()
            return _generate(http, aspect_ratio="1:1", resolution="512", steps=8, seed=seed)

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(one, [1, 2]))
    first, second = (_pictures(r)[0] for r in responses)
    assert first.tobytes() != second.tobytes()

    events = _batches(local, since)
    assert [e.message.split(" batch ")[1].split()[0] for e in events] == [
        "started",
        "finished",
        "started",
        "finished",
    ]
    assert sorted(e.settings["seed"] for e in events[0::2]) == [1, 2]
    assert events[2].at >= events[1].at  # the second batch began after the first ended
    # and not because it came late: both requests were in while the first batch ran
    assert max(sent.values()) < events[1].at


def test_the_gateway_answers_other_requests_while_a_batch_runs(local: Gateway) -> None:
    """Inference is off the event loop: while a batch of a few seconds runs, `GET /health`
    keeps answering. Were the pipeline called on the loop, nothing sent after the batch started
    could be answered before it finished. Judged against the batch's own duration, not a clock
    threshold, so a slow machine only makes the batch longer."""
    answered: list[tuple[float, float]] = []  # (sent, answered), wall clock like the log
    running = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=local.url, timeout=60) as http:
            while running.is_set():
                sent = time.time()
                assert http.get("/health").status_code == 200
                answered.append((sent, time.time()))
                time.sleep(0.02)

    with httpx.Client(base_url=local.url, timeout=120) as http:
        assert _generate(http, width=64, height=64, steps=1).is_success  # loaded and warm
        since = local.log.stat().st_size
        running.set()
        with ThreadPoolExecutor(1) as pool:
            prober = pool.submit(probe)
            try:
                response = _generate(http, width=640, height=640, steps=30, seed=21)
            finally:
                running.clear()
            prober.result()
    assert response.status_code == 200, response.text
    started, finished = _batches(local, since)
    batch = finished.at - started.at
    during = [(sent, back) for sent, back in answered if started.at <= sent <= finished.at]
    assert during, f"no probe was sent during the {batch:.2f}s batch"
    within = [back - sent for sent, back in during if back <= finished.at]
    assert len(within) >= 3, f"{len(within)} of {len(during)} probes answered in the batch"
    slowest = max(back - sent for sent, back in during)
    assert slowest < batch / 2, f"a probe took {slowest:.2f}s during a {batch:.2f}s batch"


def test_a_batch_abandoned_by_a_timeout_stops_at_its_next_step(impatient: Gateway) -> None:
    """The gateway gives up after 1 s: the running batch stops at the end of the step it is in
    (it does not go on for a request that is gone), and the next request runs after it, never
    beside it."""
    small = {"width": 64, "height": 64, "steps": 1}
    deadline = time.monotonic() + 120  # generous: a busy machine can be many times slower
    with httpx.Client(base_url=impatient.url, timeout=60) as http:
        while not _generate(http, **small).is_success:  # the first ones wait for the load
            assert time.monotonic() < deadline, impatient.log.read_text()
        since = impatient.log.stat().st_size
        # about 3.5 s on two idle CPU cores
        assert _generate(http, width=640, height=640, steps=50, seed=101).status_code == 504
        _generate(http, **small, seed=102)  # runs after it, or gives up while queued (504)

    def settled() -> list[Event]:
        events = _batches(impatient, since)
        ended = sum(" batch started " not in e.message for e in events)
        return events if events and ended * 2 == len(events) else []

    while not (events := settled()):
        assert time.monotonic() < deadline, impatient.log.read_text()
        time.sleep(0.05)
    kinds = [e.message.split(" batch ")[1].split()[0] for e in events]
    assert kinds in (["started", "stopped"], ["started", "stopped", "started", "finished"])
    assert [e.settings["seed"] for e in events[0::2]] in ([101], [101, 102])
    steps = int(events[1].message.split(" stopped after ")[1].split()[0])
    assert steps < 50, events[1].message
    assert all(later.at >= earlier.at for earlier, later in itertools.pairwise(events))


def test_two_pipelines_load_one_at_a_time_in_their_own_threads(
    fresh: Gateway, pipeline_dir: Path
) -> None:
    def first_request(model: str) -> httpx.Response:
        with httpx.Client(base_url=fresh.url, timeout=60) as http:
            return _generate(http, model=model, width=64, height=64, seed=5)

    with ThreadPoolExecutor(2) as pool:
        one, other = (_pictures(r)[0] for r in pool.map(first_request, [MODEL, LINKED]))
    assert one.tobytes() == other.tobytes()  # same weights and seed, two pipelines
    loads = [e for e in _events(fresh) if ": loaded " in e.message]
    directories = sorted(e.message.split(": loaded ")[0] for e in loads)
    assert directories == [str(pipeline_dir), str(pipeline_dir.parent / "tiny-sd-linked")]
    assert len({e.thread for e in loads}) == 2


def test_the_pipeline_is_loaded_once(local: Gateway, http: httpx.Client, pipeline_dir) -> None:
    assert _generate(http).status_code == 200
    loads = [e for e in _events(local) if ": loaded " in e.message]
    assert len(loads) == 1
    assert loads[0].message.startswith(f"{pipeline_dir}: loaded StableDiffusionPipeline on cpu")


def test_a_missing_directory_is_a_clear_upstream_error(
    http: httpx.Client, pipeline_dir: Path
) -> None:
    response = _generate(http, model=MISSING)
    assert response.status_code == 502
    message = response.json()["error"]["message"]
    assert f"no diffusers pipeline at {pipeline_dir.parent / 'nothing'}" in message
    assert "does not exist" in message


def test_without_the_extra_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # `import diffusers` now fails
    with pytest.raises(UpstreamError, match=r"pip install 'imagegate\[diffusers\]'"):
        adapter._runtime()


def _call(parameters: dict, published: dict | None = None, **endpoint) -> ProviderCall:
    fields = {
        "provider": "local",
        "native_id": "/models/sd",
        "parameters": published or {},
        "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0}],
        "source": "test",
        **endpoint,
    }
    return ProviderCall("local/sd", Endpoint.model_validate(fields), "a fox", parameters)


def test_sizes_off_the_grid_are_refused_before_the_queue() -> None:
    # a catalog that publishes no step lets these through validation; the adapter says why
    with pytest.raises(InvalidRequest, match="multiples of 8"):
        adapter.call_arguments(_call({"width": 500, "height": 301}))
    with pytest.raises(InvalidRequest, match="together"):
        adapter.call_arguments(_call({"width": 512}))


def test_ratio_sizes_keep_within_the_published_ranges() -> None:
    ranges = {
        "width": {"type": "range", "min": 256, "max": 1024, "step": 64},
        "height": {"type": "range", "min": 256, "max": 1024, "step": 64},
    }
    # 16:9 at 1K is 1344x768: scaled to 1024 on its long side (1024x585), then snapped to 64s
    assert adapter.output_size(_call({"aspect_ratio": "16:9"}, ranges)) == (1024, 576)


def test_fixed_fields_are_call_defaults_and_torch_dtype_is_a_load_option() -> None:
    call = _call(
        {"steps": 8}, fixed={"num_inference_steps": 1, "eta": 0.5, "torch_dtype": "bfloat16"}
    )
    assert adapter.call_arguments(call) == {"prompt": "a fox", "num_inference_steps": 8, "eta": 0.5}
    assert adapter.dtype_name(call) == "bfloat16"
    with pytest.raises(UpstreamError, match="torch_dtype must be one of"):
        adapter.dtype_name(_call({}, fixed={"torch_dtype": "int8"}))
    with pytest.raises(UpstreamError, match="absolute directory"):
        adapter.pipeline_directory(_call({}, native_id="models/sd"))
