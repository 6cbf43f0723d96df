from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="runware",
    model="black-forest-labs/flux.1.1-pro",
    edit_model="black-forest-labs/flux.1-kontext-pro",
    expectations={
        "nsfw": (403, "content_policy"),
        "insufficient_credits": (502, "upstream_error"),
        "task_error": (403, "content_policy"),
    },
)
