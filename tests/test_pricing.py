"""Pricing lines: estimates per request and the per-image range listings show."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.price_range import price_range
from imagegate.catalog.pricing import PriceQuery, PricingLine, estimate
from imagegate.catalog.schema import Endpoint
from imagegate.core.cost import actual_cost
from imagegate.core.normalize import normalize
from imagegate.core.request import ImageRequest
from imagegate.core.validate import PreparedCall, validate
from imagegate.providers.served_catalog import build_catalog


def _line(billable: str, unit: str, cost: str, variant: str | None = None) -> PricingLine:
    return PricingLine(billable=billable, unit=unit, cost_usd=Decimal(cost), variant=variant)


def test_first_and_additional_megapixel_add_up() -> None:
    # FLUX.2 [pro]: $0.03 the first megapixel, $0.015 each additional one.
    lines = (_line("output_image", "image", "0.015"), _line("output_image", "megapixel", "0.015"))
    assert estimate(lines, PriceQuery(megapixels=1.0)) == Decimal("0.030")
    assert estimate(lines, PriceQuery(megapixels=4.0)) == Decimal("0.075")
    assert estimate(lines, PriceQuery(megapixels=1.0, n=3)) == Decimal("0.090")


def test_most_specific_variant_wins_and_case_is_ignored() -> None:
    lines = (
        _line("output_image", "image", "0.134"),
        _line("output_image", "image", "0.24", "4k"),
        _line("output_image", "image", "0.25", "high 1024x1536"),
    )
    assert estimate(lines, PriceQuery(conditions=frozenset({"1k"}))) == Decimal("0.134")
    assert estimate(lines, PriceQuery(conditions=frozenset({"4k"}))) == Decimal("0.24")
    both = frozenset({"high", "1024x1536"})
    assert estimate(lines, PriceQuery(conditions=both)) == Decimal("0.25")


def test_token_lines_do_not_enter_estimates_but_input_images_do() -> None:
    lines = (
        _line("input_text", "token", "0.000005"),
        _line("output_image", "token", "0.00004"),
        _line("output_image", "image", "0.04"),
        _line("input_image", "image", "0.002"),
    )
    assert estimate(lines, PriceQuery(input_images=2)) == Decimal("0.044")


def _endpoint(parameters: dict, pricing: list[PricingLine]) -> Endpoint:
    return Endpoint(
        provider="p", native_id="m", parameters=parameters, pricing=tuple(pricing), source="test"
    )


def test_range_spans_priced_quality_and_size_combinations() -> None:
    endpoint = _endpoint(
        {
            "size": EnumCapability(values=("auto", "1024x1024", "1536x1024")),
            "quality": EnumCapability(values=("auto", "low", "high")),
        },
        [
            _line("output_image", "token", "0.00004"),
            _line("output_image", "image", "0.011", "low 1024x1024"),
            _line("output_image", "image", "0.016", "low 1536x1024"),
            _line("output_image", "image", "0.167", "high 1024x1024"),
            _line("output_image", "image", "0.25", "high 1536x1024"),
        ],
    )
    assert price_range(endpoint) == (Decimal("0.011"), Decimal("0.25"))


def test_range_of_megapixel_pricing_follows_resolution_and_free_sizes() -> None:
    per_mp = [_line("output_image", "megapixel", "0.01")]
    by_resolution = _endpoint({"resolution": EnumCapability(values=("1K", "2K"))}, per_mp)
    low, high = price_range(by_resolution)
    assert low == Decimal("0.01") * Decimal("1.048576")
    assert high == Decimal("0.01") * Decimal("4.194304")
    free = _endpoint(
        {"width": RangeCapability(min=256, max=2000), "height": RangeCapability(min=256, max=1000)},
        per_mp,
    )
    assert price_range(free)[1] == Decimal("0.01") * Decimal("2")


def test_a_rounded_up_megapixel_is_1024_squared_and_each_image_counts_whole_ones() -> None:
    # fal: "a 1024x1024 image will cost $0.05, a 1920x1080 image $0.10 ... a 512x512 output
    # will cost $0.05 (0.26 megapixels, rounded to 1)"
    line = (_line("output_image", "megapixel_rounded_up", "0.05"),)
    cost = {
        (w, h): estimate(line, PriceQuery(megapixels=w * h / 1_000_000))
        for w, h in ((1024, 1024), (1920, 1080), (512, 512), (1024, 768), (2048, 2048))
    }
    assert cost == {
        (1024, 1024): Decimal("0.05"),
        (1920, 1080): Decimal("0.10"),
        (512, 512): Decimal("0.05"),
        (1024, 768): Decimal("0.05"),
        (2048, 2048): Decimal("0.20"),
    }
    refs = (_line("input_image", "megapixel_rounded_up", "0.05"),)
    assert estimate(refs, PriceQuery(input_images=2, input_megapixels=0.3)) == Decimal("0.10")


def test_a_price_quoted_at_some_steps_scales_with_the_steps_asked_for() -> None:
    # Together: price per MP x steps / default steps (FLUX.1 [schnell]: 4)
    line = PricingLine(
        billable="output_image", unit="megapixel", cost_usd=Decimal("0.0027"), at_steps=4
    )
    at = {steps: estimate((line,), PriceQuery(megapixels=1.0, steps=steps)) for steps in (4, 8)}
    assert at[8] == 2 * at[4] == Decimal("0.0054")
    assert estimate((line,), PriceQuery(megapixels=1.0)) == Decimal("0.0027")  # its default
    endpoint = _endpoint({"steps": RangeCapability(min=1, max=12)}, [line])
    low, high = price_range(endpoint)
    assert high == 12 * low  # the listing's range grows with the steps a request may ask for


def test_a_steps_ratio_that_does_not_end_bills_the_exact_cents() -> None:
    # FLUX.1 [dev] at $0.014 for 28 steps, asked for 20: 20/28 is a repeating decimal
    line = PricingLine(
        billable="output_image", unit="image", cost_usd=Decimal("0.014"), at_steps=28
    )
    assert estimate((line,), PriceQuery(steps=20)) == Decimal("0.01")
    assert estimate((line,), PriceQuery(steps=10)) == Decimal("0.005")


def test_a_line_in_a_unit_its_billable_is_not_counted_in_is_refused() -> None:
    with pytest.raises(ValidationError, match="output_video cannot be billed per megapixel"):
        _line("output_video", "megapixel", "0.1")
    with pytest.raises(ValidationError, match="at_steps scales a per-image"):
        PricingLine(billable="request", unit="request", cost_usd=Decimal(1), at_steps=4)


def _catalog_call(model_id: str, parameters: dict) -> PreparedCall:
    catalog = build_catalog(None, {})
    model = catalog.resolve(model_id)
    assert model is not None
    view = catalog.view(model_id, include_unavailable=True)
    request = ImageRequest(model=model_id, prompt="x", parameters=normalize(parameters))
    return validate(request, view.endpoints[0], model)


def test_a_parameter_left_out_is_priced_at_the_providers_default() -> None:
    """DALL-E 3 without quality or size is standard 1024x1024 at OpenAI: $0.04 estimated and
    billed (it reports no usage), not nothing."""
    call = _catalog_call("openai/dall-e-3", {})
    assert call.estimate == Decimal("0.04")
    billed = actual_cost(call.view.endpoint.pricing, call.priced, 1, 0, None, None)
    assert billed == Decimal("0.04")
    assert _catalog_call("openai/dall-e-3", {"quality": "hd"}).estimate == Decimal("0.08")
    gemini = _catalog_call("google/gemini-3-pro-image-preview", {})
    assert gemini.estimate == Decimal("0.134")  # 1K, its default


def test_a_choice_left_to_the_provider_is_estimated_at_the_closest_dearest_line() -> None:
    # GPT Image's quality is the provider's choice unless asked: hold the high price
    assert _catalog_call("openai/gpt-image-1", {}).estimate == Decimal("0.167")
    # a shape no line names directly takes the line of that shape
    landscape = _catalog_call("openai/gpt-image-1", {"quality": "low", "aspect_ratio": "3:2"})
    assert landscape.estimate == Decimal("0.016")
    # a free size larger than any priced one is scaled up by its pixels
    lines = (
        _line("output_image", "image", "0.10", "high 1024x1024"),
        _line("output_image", "image", "0.15", "high 1536x1024"),
    )
    big = PriceQuery(megapixels=1024 * 1024 * 4 / 1e6, conditions=frozenset({"high"}))
    assert estimate(lines, big) == Decimal("0.40")
    medium = PriceQuery(conditions=frozenset({"medium"}))  # shares no value: the dearest
    assert estimate(lines, medium) == Decimal("0.10")  # at the 1024x1024 it asks for


def test_a_default_must_be_a_value_the_endpoint_offers() -> None:
    with pytest.raises(ValidationError, match="default quality='ultra'"):
        Endpoint(
            provider="openai",
            native_id="dall-e-3",
            parameters={"quality": EnumCapability(values=("standard", "hd"))},
            defaults={"quality": "ultra"},
            pricing=(_line("output_image", "image", "0.04"),),
            source="test",
        )


def test_a_video_is_billed_at_the_length_made_not_the_files_rounding() -> None:
    from imagegate.catalog.descriptors import EnumCapability, RangeCapability
    from imagegate.core.video_length import billed_length

    five_or_ten = EnumCapability(values=("5", "10"))
    assert billed_length(None, 5.041, 5.0, five_or_ten) == 5.0  # the last frame's duration
    assert billed_length(None, 5.041, None, five_or_ten) == 5.0  # left to the provider
    assert billed_length(None, 9.96, None, RangeCapability(min=2, max=12)) == 10.0
    assert billed_length(None, 7.2, 5.0, five_or_ten) == 7.2  # clearly not what was asked
    assert billed_length(None, 0.0, 8.0, None) == 8.0  # a container that gives no length
    assert billed_length(4.0, 5.041, 5.0, five_or_ten) == 4.0  # the provider's own figure


def test_a_video_size_is_priced_at_its_tier() -> None:
    from imagegate.catalog.pricing import PricingLine
    from imagegate.core.estimate import estimate_cost

    lines = (
        PricingLine(
            billable="output_video", unit="second", cost_usd=Decimal("0.08"), variant="720p"
        ),
        PricingLine(
            billable="output_video", unit="second", cost_usd=Decimal("0.12"), variant="1080p"
        ),
    )
    assert estimate_cost(lines, {"duration": 5, "size": "1280x720"}) == Decimal("0.40")
    assert estimate_cost(lines, {"duration": 5, "size": "1080x1920"}) == Decimal("0.60")
    assert estimate_cost(lines, {"duration": 5, "resolution": "720p"}) == Decimal("0.40")
