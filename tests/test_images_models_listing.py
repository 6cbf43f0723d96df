"""`GET /api/v1/images/models` and its endpoints records, against the running gateway."""

from __future__ import annotations

import httpx
import pytest

ALL = {"include_unavailable": "true"}


def _list(client: httpx.Client, **params: str) -> dict:
    response = client.get("/api/v1/images/models", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(body: dict) -> list[str]:
    return [item["id"] for item in body["data"]]


def test_default_lists_only_models_that_can_be_routed(client: httpx.Client) -> None:
    body = _list(client)
    assert set(_ids(body)) == {"sandbox/image", "sandbox/image-text", "test/png-only"}
    assert body["total_count"] == 3
    assert all(item["available"] for item in body["data"])


def test_include_unavailable_shows_the_whole_catalog_with_a_flag(client: httpx.Client) -> None:
    body = _list(client, **ALL)
    by_id = {item["id"]: item for item in body["data"]}
    bundled = [item for item in body["data"] if not item["id"].startswith(("test/", "sandbox/"))]
    assert len(bundled) >= 170  # every live image model the bundled catalog has
    assert len({slug for item in bundled for slug in item["providers"]}) >= 24
    assert by_id["sandbox/image"]["available"] is True
    assert by_id["black-forest-labs/flux.2-max"]["available"] is False
    assert by_id["test/keyed-edit"]["available"] is False


def test_item_schema_is_openrouters_plus_prices(client: httpx.Client) -> None:
    item = next(
        i for i in _list(client, **ALL)["data"] if i["id"] == "black-forest-labs/flux.2-pro"
    )
    assert item["name"] == "FLUX.2 [pro]"
    assert item["created"] == 1764028800  # 2025-11-25
    assert item["architecture"] == {
        "input_modalities": ["text", "image"],
        "output_modalities": ["image"],
    }
    assert item["endpoints"] == "/api/v1/images/models/black-forest-labs/flux.2-pro/endpoints"
    assert item["supports_streaming"] is False
    assert item["supported_parameters"]["resolution"] == {"type": "enum", "values": ["1K", "2K"]}
    assert item["supported_parameters"]["input_references"] == {"type": "range", "min": 1, "max": 8}
    assert item["supported_parameters"]["prompt_upsampling"] == {"type": "boolean"}
    assert {"bfl", "openrouter"} <= set(item["providers"])
    assert item["providers"] == sorted(item["providers"])
    # the model's range spans its endpoints' ranges
    endpoints = client.get(item["endpoints"], params=ALL).json()["endpoints"]
    assert [e["provider_slug"] for e in endpoints] == item["providers"]
    assert item["price_per_image"] == {
        "min": min(e["price_per_image"]["min"] for e in endpoints),
        "max": max(e["price_per_image"]["max"] for e in endpoints),
    }
    bfl = next(e for e in endpoints if e["provider_slug"] == "bfl")
    assert bfl["price_per_image"] == {"min": 0.03072864, "max": 0.07791456}


def test_output_modalities_match_any_listed(client: httpx.Client) -> None:
    text = _list(client, output_modalities="text", **ALL)["data"]
    assert {"sandbox/image-text", "google/gemini-2.5-flash-image"} <= {i["id"] for i in text}
    assert all("text" in i["architecture"]["output_modalities"] for i in text)
    every = _list(client, **ALL)["total_count"]
    assert _list(client, output_modalities="image,text", **ALL)["total_count"] == every
    assert _list(client, output_modalities="all", **ALL)["total_count"] == every


def test_input_modalities_require_all_listed(client: httpx.Client) -> None:
    editing = _list(client, input_modalities="text,image", **ALL)["data"]
    ids = {i["id"] for i in editing}
    assert "black-forest-labs/flux.1-kontext-pro" in ids
    assert "openai/dall-e-3" not in ids
    assert all("image" in i["architecture"]["input_modalities"] for i in editing)


def test_provider_filter(client: httpx.Client) -> None:
    bfl = _list(client, provider="bfl", **ALL)["data"]
    assert "black-forest-labs/flux.2-klein-9b" in {i["id"] for i in bfl}
    assert all("bfl" in i["providers"] for i in bfl)
    two = _list(client, provider="recraft,xai", **ALL)["data"]
    assert {"recraft/recraft-v3", "recraft/recraft-v4", "x-ai/grok-imagine-image"} <= {
        i["id"] for i in two
    }
    everything = _list(client, **ALL)["data"]
    assert {i["id"] for i in two} == {
        i["id"] for i in everything if {"recraft", "xai"} & set(i["providers"])
    }


def test_supports_needs_every_parameter_on_one_endpoint(client: httpx.Client) -> None:
    items = _list(client, supports="mask,input_references", **ALL)["data"]
    ids = {i["id"] for i in items}
    assert {"openai/gpt-image-1", "openai/dall-e-2", "test/keyed-edit"} <= ids
    assert "black-forest-labs/flux.2-pro" not in ids
    for item in items:
        records = client.get(item["endpoints"], params=ALL).json()["endpoints"]
        assert any({"mask", "input_references"} <= set(r["supported_parameters"]) for r in records)


def test_q_searches_id_name_and_aliases(client: httpx.Client) -> None:
    assert "google/gemini-3-pro-image-preview" in _ids(_list(client, q="NANO BANANA PRO", **ALL))
    assert _ids(_list(client, q="FLUX-2-pro", **ALL)) == ["black-forest-labs/flux.2-pro"]
    assert all(
        "gemini" in i["id"] or "gemini" in " ".join(i["aliases"]) or "Gemini" in i["name"]
        for i in _list(client, q="gemini", **ALL)["data"]
    )


def test_max_price_is_per_output_image(client: httpx.Client) -> None:
    cheap = _list(client, max_price="0.01", **ALL)["data"]
    ids = {i["id"] for i in cheap}
    assert {"tongyi-mai/z-image-turbo", "sandbox/image", "luma/photon-flash"} <= ids
    assert "black-forest-labs/flux.2-pro" not in ids
    assert all(i["price_per_image"]["min"] <= 0.01 for i in cheap)


def test_endpoint_filters_must_hold_on_the_same_endpoint(client: httpx.Client) -> None:
    # FLUX.1 [schnell] is cheap on fal, but not served by BFL: no single endpoint meets both.
    ids = set(_ids(_list(client, provider="bfl", max_price="0.02", **ALL)))
    assert ids == {"black-forest-labs/flux.2-klein-4b", "black-forest-labs/flux.2-klein-9b"}


@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [
        ("price", lambda i: i["price_per_image"]["min"], False),
        ("name", lambda i: i["name"].lower(), False),
        ("date", lambda i: i["created"], True),
        ("provider", lambda i: min(i["providers"]), False),
    ],
)
def test_sort(client: httpx.Client, sort: str, key, descending: bool) -> None:
    values = [key(item) for item in _list(client, sort=sort, **ALL)["data"]]
    assert values == sorted(values, reverse=descending)


def test_limit_and_offset_page_through_everything(client: httpx.Client) -> None:
    total = _list(client, **ALL)["total_count"]
    seen: list[str] = []
    for offset in range(0, total, 10):
        page = _list(client, limit="10", offset=str(offset), sort="name", **ALL)
        assert page["total_count"] == total
        seen += _ids(page)
    assert seen == _ids(_list(client, sort="name", **ALL))


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"sort": "popularity"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-3"}, "offset"),
        ({"max_price": "-1"}, "max_price"),
        ({"max_price": "cheap"}, "max_price"),
        ({"supports": "aspect-ratio"}, "supports"),
        ({"provider": "nobody"}, "provider"),
        ({"output_modalities": "smell"}, "output_modalities"),
        ({"include_unavailable": "maybe"}, "include_unavailable"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filter_is_a_400_naming_the_parameter(client: httpx.Client, params, param) -> None:
    response = client.get("/api/v1/images/models", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["metadata"]["param"] == param
    assert f"'{param}'" in error["message"]


def test_etag_and_304(client: httpx.Client) -> None:
    first = client.get("/api/v1/images/models", params={"sort": "price"})
    etag = first.headers["etag"]
    again = client.get(
        "/api/v1/images/models", params={"sort": "price"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(
        "/api/v1/images/models", params={"sort": "name"}, headers={"If-None-Match": etag}
    )
    assert other.status_code == 200
    assert other.headers["etag"] != etag


def test_endpoints_records(client: httpx.Client) -> None:
    response = client.get(
        "/api/v1/images/models/black-forest-labs/flux.2-pro/endpoints", params=ALL
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "black-forest-labs/flux.2-pro"
    by_slug = {endpoint["provider_slug"]: endpoint for endpoint in body["endpoints"]}
    bfl, openrouter = by_slug["bfl"], by_slug["openrouter"]
    assert bfl["provider_name"] == "Black Forest Labs"
    assert bfl["provider_slug"] == "bfl"
    assert bfl["supported_parameters"]["safety_tolerance"] == {"type": "range", "min": 0, "max": 5}
    assert "safety_tolerance" not in openrouter["supported_parameters"]
    assert bfl["pricing"] == [
        {"billable": "output_image", "unit": "image", "cost_usd": 0.015},
        {"billable": "output_image", "unit": "megapixel", "cost_usd": 0.015},
        {"billable": "input_image", "unit": "megapixel", "cost_usd": 0.015},
    ]
    assert bfl["supports_streaming"] is False
    assert bfl["available"] is False
    assert bfl["source"]


def test_endpoints_by_alias_answer_with_the_canonical_id(client: httpx.Client) -> None:
    response = client.get("/api/v1/images/models/google/gemini-3-pro/endpoints", params=ALL)
    assert response.json()["id"] == "google/gemini-3-pro-image"


def test_unknown_and_unservable_models_are_404s(client: httpx.Client) -> None:
    unknown = client.get("/api/v1/images/models/nobody/nothing/endpoints")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == 404
    unservable = client.get("/api/v1/images/models/black-forest-labs/flux.2-pro/endpoints")
    assert unservable.status_code == 404
    message = unservable.json()["error"]["message"]
    assert "include_unavailable=true" in message


def test_configuring_a_provider_makes_its_models_appear(keyed_gateway) -> None:
    with keyed_gateway.client() as keyed:
        body = keyed.get("/api/v1/images/models").json()
        by_id = {item["id"]: item for item in body["data"]}
        assert by_id["test/keyed-edit"]["available"] is True
        assert by_id["sandbox/image"]["providers"] == ["sandbox", "sandbox-eu"]
        # The union widens: the EU endpoint publishes a seed range inside the sandbox's own.
        assert by_id["sandbox/image"]["supported_parameters"]["seed"]["max"] == 4294967295
        records = keyed.get("/api/v1/images/models/sandbox/image/endpoints").json()["endpoints"]
        assert [r["provider_slug"] for r in records] == ["sandbox", "sandbox-eu"]
        assert records[1]["pricing"] == [
            {"billable": "output_image", "unit": "image", "cost_usd": 0.002}
        ]


def test_endpoints_records_open_with_the_models_header(client: httpx.Client) -> None:
    """The model page needs one call: the record opens with what the listing item says of the
    model (OpenRouter's endpoints record has `id, name, created, description, architecture`),
    its aliases too; asked by an alias, it answers for the model."""
    header = ("id", "name", "description", "created", "architecture", "aliases")
    listed = {item["id"]: item for item in _list(client, **ALL)["data"]}
    for asked, model in (
        ("google/gemini-3-pro", "google/gemini-3-pro-image"),
        ("black-forest-labs/flux.2-pro", "black-forest-labs/flux.2-pro"),
        ("sandbox/image", "sandbox/image"),
    ):
        body = client.get(f"/api/v1/images/models/{asked}/endpoints", params=ALL).json()
        assert {field: body[field] for field in header} == {
            field: listed[model][field] for field in header
        }
        assert body["endpoints"]
    gemini = client.get("/api/v1/images/models/google/gemini-3-pro/endpoints", params=ALL).json()
    assert "google/gemini-3-pro" in gemini["aliases"]
    assert gemini["architecture"]["output_modalities"] == ["image", "text"]
    # a video model's record (not in the image listing) opens the same way
    video = client.get("/api/v1/images/models/sandbox/video/endpoints").json()
    assert video["id"] == "sandbox/video" and video["name"]
    assert "video" in video["architecture"]["output_modalities"]
    assert isinstance(video["created"], int) and isinstance(video["aliases"], list)
