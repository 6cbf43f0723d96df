from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="imagerouter",
    model="bria/bria-3.2",
    edit_model="black-forest-labs/flux.1-kontext-pro",
    expectations={
        "upstream_busy": (429, "rate_limited"),  # the upstream's 429, inside a 200
        "out_of_credits": (502, "upstream_error"),
        "as_url": (200, None),
    },
)
