"""`GET /api/v1/providers`: every provider of the catalog, whether it is configured, and how
many models it serves, agreeing with the image and video listings."""

from __future__ import annotations

import httpx

from conftest import Gateway


def test_every_provider_is_listed_with_its_models_and_whether_it_serves(gateway: Gateway) -> None:
    answer = httpx.get(f"{gateway.url}/api/v1/providers")
    assert answer.status_code == 200
    providers = {provider["slug"]: provider for provider in answer.json()["data"]}
    assert providers["sandbox"]["configured"] is True
    assert providers["openai"]["configured"] is False  # this gateway has no OpenAI key
    assert providers["openai"]["name"] == "OpenAI"
    names = [provider["name"].lower() for provider in answer.json()["data"]]
    assert names == sorted(names)
    for slug in ("sandbox", "openai", "bfl"):
        images = httpx.get(
            f"{gateway.url}/api/v1/images/models",
            params={"provider": slug, "include_unavailable": "true", "limit": 1},
        ).json()["total_count"]
        everything = httpx.get(
            f"{gateway.url}/api/v1/models",
            params={"output_modalities": "all", "include_unavailable": "true", "limit": 1000},
        ).json()["data"]
        assert images >= 1
        assert images <= providers[slug]["models"] <= len(everything), slug


def test_it_is_conditional_and_takes_no_parameters(gateway: Gateway) -> None:
    first = httpx.get(f"{gateway.url}/api/v1/providers")
    again = httpx.get(
        f"{gateway.url}/api/v1/providers", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    wrong = httpx.get(f"{gateway.url}/api/v1/providers", params={"sort": "name"})
    assert wrong.status_code == 400
    assert "unknown query parameter 'sort'" in wrong.json()["error"]["message"]


def test_a_price_range_keeps_models_whose_cheapest_case_is_within_it(gateway: Gateway) -> None:
    def listed(**params: str) -> list[dict]:
        return httpx.get(
            f"{gateway.url}/api/v1/images/models",
            params={"include_unavailable": "true", **params},
        ).json()["data"]

    everything = listed()
    low, high = "0.02", "0.05"
    ranged = listed(min_price=low, max_price=high)
    assert ranged and len(ranged) < len(everything)
    for model in ranged:  # one endpoint's cheapest case is in the range
        assert float(low) <= model["price_per_image"]["max"]
        assert model["price_per_image"]["min"] <= float(high)
    cheapest_in_range = {
        m["id"] for m in everything if float(low) <= m["price_per_image"]["min"] <= float(high)
    }
    assert cheapest_in_range <= {m["id"] for m in ranged}
    bad = httpx.get(f"{gateway.url}/api/v1/images/models", params={"min_price": "cheap"})
    assert bad.status_code == 400 and "min_price" in bad.text
