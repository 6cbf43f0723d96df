from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="replicate",
    model="black-forest-labs/flux.1-schnell",
    edit_model="bytedance-seed/seedream-4",
    expectations={
        # still unfinished after `Prefer: wait`: the adapter polls `urls.get` to success
        "processing": (200, None),
        # never finishes: polling runs out of time (and the prediction is cancelled)
        "stuck": (504, "upstream_timeout"),
        "canceled": (502, "upstream_error"),
        "aborted": (502, "upstream_error"),  # the deadline passed before it could start
    },
)
