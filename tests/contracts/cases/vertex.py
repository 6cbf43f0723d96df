from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="vertex",
    model="google/gemini-3.1-flash-lite-image",
    edit_model="google/gemini-3-pro-image",
    stream_model="google/gemini-3.1-flash-image",
    expectations={
        "blocked": (403, "content_policy"),  # promptFeedback.blockReason
        "permission": (502, "upstream_error"),  # the gateway's project, not the client's fault
        "quota": (429, "rate_limited"),  # RESOURCE_EXHAUSTED, without Retry-After
        "revoked": (502, "upstream_error"),  # token refused, and no new one to be had
    },
)
