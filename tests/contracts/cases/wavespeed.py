from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="wavespeed",
    model="black-forest-labs/flux.1-dev",
    expectations={
        "blocked": (403, "content_policy"),  # failed with a sensitive-content error
        "timeout_status": (502, "upstream_error"),  # WaveSpeed gave up on the prediction
        "stuck": (504, "upstream_timeout"),  # never finishes: polling runs out of time
    },
)
