from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="fal",
    model="black-forest-labs/flux.1-schnell",
    edit_model="google/gemini-2.5-flash-image",
    # `stuck`: the request never leaves IN_PROGRESS; imagegate gives up (and cancels it).
    expectations={"stuck": (504, "upstream_timeout")},
)
