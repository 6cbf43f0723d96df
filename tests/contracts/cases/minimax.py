from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="minimax",
    model="minimax/image-01",
    edit_model="minimax/image-01",  # subject_reference (a character image) on the same model
    expectations={
        "output_moderated": (403, "content_policy"),  # 1027: the output was flagged
        "rate_limited_body": (429, "rate_limited"),  # 1002 with HTTP 200
        "insufficient_balance": (502, "upstream_error"),  # 1008
        "withheld": (403, "content_policy"),  # every image dropped by moderation
    },
)
