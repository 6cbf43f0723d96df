from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="google",
    model="google/gemini-nano-banana-2.1",
    edit_model="google/gemini-3-pro-image",
    stream_model="google/gemini-nano-banana-2.1",
    expectations={
        "blocked": (403, "content_policy"),  # promptFeedback.blockReason
        "text_only": (502, "upstream_error"),  # STOP with only text: never an empty success
        "bad_key": (502, "upstream_error"),  # Google's 400 API_KEY_INVALID is not the client's
        "region": (502, "upstream_error"),  # 400 FAILED_PRECONDITION: another provider may serve
        "quota": (429, "rate_limited"),
    },
)
