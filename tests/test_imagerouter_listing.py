"""`GET /v2/models` and `/v2/models/{id}`: ImageRouter's semantics against the running gateway."""

from __future__ import annotations

import httpx
import pytest

ALL = {"include_unavailable": "true"}


def _list(client: httpx.Client, **params: str) -> list[dict]:
    response = client.get("/v2/models", params={**ALL, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    return body


def test_default_is_an_array_of_available_models(client: httpx.Client) -> None:
    body = client.get("/v2/models").json()
    assert [m["id"] for m in body] == [
        "sandbox/image",
        "sandbox/image-text",
        "sandbox/video",  # ImageRouter lists its video models with its image models
        "test/png-only",
    ]
    image = body[0]
    assert image["output"] == ["image"]
    assert image["inputs"]["image"] is True and image["inputs"]["mask"] is False
    assert image["inputs"]["size"] == ["auto", "custom"]
    assert image["release_date"] == "2026-11-01"
    assert image["price"] == {"min": 0, "average": 0, "max": 0}
    assert "aliases" not in image  # only present when a model has some


def test_model_object_fields(client: httpx.Client) -> None:
    gpt = next(m for m in _list(client) if m["id"] == "openai/gpt-image-1")
    assert gpt["inputs"] == {
        "image": True,
        "mask": True,
        "quality": True,
        "size": ["auto", "1024x1024", "1536x1024", "1024x1536"],
    }
    assert gpt["price"] == {"min": 0.011, "average": 0.1305, "max": 0.25}
    gemini = next(m for m in _list(client) if m["id"] == "google/gemini-2.5-flash-image")
    assert gemini["aliases"] == ["google/gemini-2.5-flash", "google/gemini-2.5-flash-image-preview"]
    assert "1344x768" in gemini["inputs"]["size"]  # 16:9 at 1K


def test_output_type(client: httpx.Client) -> None:
    images, videos = _list(client, outputType="image"), _list(client, outputType="video")
    assert all("image" in m["output"] for m in images)
    assert all("video" in m["output"] for m in videos)
    assert len(videos) >= 40  # ImageRouter's own listing has 35
    assert len(images) + len(videos) == len(_list(client))


@pytest.mark.parametrize("input_type", ["image", "mask", "quality"])
def test_input_type_filters_on_inputs(client: httpx.Client, input_type: str) -> None:
    models = _list(client, inputType=input_type)
    assert models
    assert all(m["inputs"][input_type] is True for m in models)
    assert len(models) < len(_list(client))


def test_input_type_size_and_seconds(client: httpx.Client) -> None:
    sized = _list(client, inputType="size")
    assert all(any(s != "auto" for s in m["inputs"]["size"]) for m in sized)
    timed = _list(client, inputType="seconds")
    assert timed and all("video" in m["output"] for m in timed)
    veo = next(m for m in timed if m["id"] == "google/veo-3.1")
    assert veo["inputs"]["seconds"] == [4, 6, 8]


def test_free(client: httpx.Client) -> None:
    free = {m["id"] for m in _list(client, free="true")}
    # test/png-only costs $0.01
    assert free == {"sandbox/image", "sandbox/image-text", "sandbox/video"}
    paid = _list(client, free="false")
    assert paid and all(m["price"]["min"] > 0 for m in paid)


def test_provider_is_partial_and_case_insensitive(client: httpx.Client) -> None:
    google = {m["id"] for m in _list(client, provider="GOOG")}
    assert "google/imagen-4" in google  # authored by Google, served by fal and Replicate
    assert "google/gemini-3-pro-image-preview" in google
    assert "black-forest-labs/flux.2-pro" not in google
    bfl = {m["id"] for m in _list(client, provider="black forest")}  # a provider's name
    assert "black-forest-labs/flux.1-dev" in bfl


def test_name_searches_names_and_aliases(client: httpx.Client) -> None:
    assert [m["id"] for m in _list(client, name="gemini-2.5-flash")] == [
        "google/gemini-2.5-flash-image"
    ]
    assert {m["id"] for m in _list(client, name="banana")} == {
        "google/gemini-2.5-flash-image",
        "google/gemini-3-pro-image-preview",
        "google/gemini-3.1-flash-image-preview",
        "google/gemini-3-pro-image",
        "google/gemini-nano-banana-2.1",
        "google/gemini-3.1-flash-image",  # Vertex AI's GA model, "Nano Banana 2"
        "google/gemini-3.1-flash-lite-image",
    }


def test_sorts(client: httpx.Client) -> None:
    by_name = [m["id"] for m in _list(client, sort="name")]
    assert by_name == sorted(by_name)
    by_provider = [m["id"].split("/")[0] for m in _list(client, sort="provider")]
    assert by_provider == sorted(by_provider)
    prices = [m["price"]["min"] for m in _list(client, sort="price")]
    assert prices == sorted(prices)
    dates = [m["release_date"] for m in _list(client, sort="date")]
    assert dates == sorted(dates, reverse=True)


def test_limit_applies_after_filters(client: httpx.Client) -> None:
    masked = _list(client, inputType="mask", sort="price")
    assert _list(client, inputType="mask", sort="price", limit="2") == masked[:2]


def test_fields_select_keys_and_id_always_stays(client: httpx.Client) -> None:
    models = _list(client, fields="price,inputs")
    assert all(set(m) == {"id", "price", "inputs"} for m in models)
    named = _list(client, fields="name,aliases", name="gemini-3-pro")
    assert named == [
        {
            "id": "google/gemini-3-pro-image",
            "name": "Gemini 3 Pro Image (Nano Banana Pro)",
            "aliases": ["google/gemini-3-pro"],
        },
        {  # the retired preview, listed with include_unavailable; it has no aliases left
            "id": "google/gemini-3-pro-image-preview",
            "name": "Gemini 3 Pro Image (Nano Banana Pro)",
        },
    ]


def test_url_encoded_id_and_alias(client: httpx.Client) -> None:
    response = client.get("/v2/models/google%2Fgemini-2.5-flash", params=ALL)
    assert response.status_code == 200
    assert response.json()["id"] == "google/gemini-2.5-flash-image"
    assert client.get("/v2/models/sandbox%2Fimage").json()["id"] == "sandbox/image"


def test_unknown_model_404_in_imagerouter_shape(client: httpx.Client) -> None:
    response = client.get("/v2/models/nobody%2Fnothing")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "model 'nobody/nothing' is not in the catalog",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"sort": "arena"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"outputType": "audio"}, "outputType"),
        ({"inputType": "voice"}, "inputType"),
        ({"free": "sometimes"}, "free"),
        ({"fields": "price,colour"}, "fields"),
        ({"type": "image"}, "type"),
    ],
)
def test_bad_values_are_400s_in_imagerouter_shape(client: httpx.Client, params, param) -> None:
    response = client.get("/v2/models", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
