from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="fal",
    model="black-forest-labs/flux.1-schnell",
    # No fal image model in the bundled catalog takes reference images since Gemini 2.5 Flash
    # Image (fal's nano-banana) retired; test_fal_contract tests fal's edit app on a test model.
    edit_model=None,
    # `stuck`: the request never leaves IN_PROGRESS; imagegate gives up (and cancels it).
    expectations={"stuck": (504, "upstream_timeout")},
)
