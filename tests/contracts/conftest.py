"""The contract harness: every fake upstream, and one gateway pointed at all of them."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

import httpx
import pytest

from conftest import Gateway, start_gateway
from fakes import all_fakes
from fakes.base import FakeServer
from imagegate.catalog import files

PROVIDER_TIMEOUT = "3"


@pytest.fixture(scope="session")
def fakes() -> Iterator[dict[str, FakeServer]]:
    running = {slug: kind() for slug, kind in all_fakes().items()}
    for fake in running.values():
        fake.start()
    yield running
    for fake in running.values():
        fake.stop()


def provider_env(
    fakes: dict[str, FakeServer], only: Collection[str] | None = None
) -> dict[str, str]:
    """Every provider (or those `only` names) configured with a key and its base URL set to its
    fake; results may be downloaded from loopback (where the fakes are)."""
    providers = files.load([files.Layer(files.bundled_files(), overrides=False)]).providers
    env = {
        "IMAGEGATE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": PROVIDER_TIMEOUT,
    }
    for slug, fake in fakes.items():
        if only is not None and slug not in only:
            continue
        info = providers[slug]
        if info.key_env:
            env[info.key_env] = f"key-for-{slug}"
        if info.base_url_env:
            env[info.base_url_env] = fake.base_url
        env.update(fake.environment())
    return env


# Routing tests: retries on and quick, the circuit breaker off unless a test turns it on.
ROUTING = {
    "IMAGEGATE_RETRIES": "2",
    "IMAGEGATE_RETRY_BACKOFF_SECONDS": "0.05",
    "IMAGEGATE_RETRY_AFTER_CAP_SECONDS": "1",
    "IMAGEGATE_CIRCUIT_THRESHOLD": "0",
}


# The sellers the routing tests reason about (which is cheapest, who falls back to whom): the
# providers added later sell the same models too, and would change that arithmetic.
ROUTED_PROVIDERS = frozenset(
    {
        "openai",
        "google",
        "bfl",
        "fal",
        "replicate",
        "stability",
        "together",
        "xai",
        "byteplus",
        "recraft",
        "openrouter",
    }
)


def start_routed(
    fakes: dict[str, FakeServer],
    home: Path,
    providers: Collection[str] = ROUTED_PROVIDERS,
    **settings: str,
) -> Gateway:
    """A gateway of its own over the fakes of `providers`, with the bundled catalog and
    `ROUTING`."""
    env = provider_env(fakes, providers)
    return start_gateway(home, catalog=None, **{**env, **ROUTING, **settings})


@pytest.fixture(scope="module")
def routed(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """One routing gateway per test module, for the tests that do not depend on its traffic."""
    gateway = start_routed(fakes, tmp_path_factory.mktemp("routed"))
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        yield client
    gateway.stop()


@pytest.fixture(scope="session")
def provider_gateway(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    running = start_gateway(
        tmp_path_factory.mktemp("provider-home"), catalog=None, **provider_env(fakes)
    )
    yield running
    running.stop()


@pytest.fixture
def upstream(provider_gateway: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=provider_gateway.url, timeout=30) as client:
        yield client


def upstream_said(client: httpx.Client, response: httpx.Response) -> str:
    """What the upstream said about a failed generation, as its record keeps it for the
    operator (each attempt's `detail`; these gateways have no keys, so the caller is the
    operator): the client's own answer names only the kind of failure."""
    record = client.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    return " | ".join(a["detail"] or "" for a in record["provider_responses"])


@pytest.fixture(autouse=True)
def _reset_fakes(fakes: dict[str, FakeServer]) -> None:
    for fake in fakes.values():
        fake.reset()
