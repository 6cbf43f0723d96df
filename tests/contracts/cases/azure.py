from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="azure",
    model="openai/gpt-image-2",
    edit_model="openai/gpt-image-1.5",
    stream_model="openai/gpt-image-2.5-flare",
    expectations={
        "policy_violation": (403, "content_policy"),
        "blocked": (502, "upstream_error"),
        "throttled": (429, "rate_limited"),
    },
)
