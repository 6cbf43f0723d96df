from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="bedrock",
    model="stabilityai/stable-image-core",
    edit_model="stabilityai/sd3.5-large",
    expectations={
        # 200s whose finish reason is a filter, or an inference error
        "filtered_output": (403, "content_policy"),
        "inference_error": (502, "upstream_error"),
        # Bedrock's own errors
        "model_timeout": (504, "upstream_timeout"),
        "model_error": (502, "upstream_error"),
        "unavailable": (502, "upstream_error"),
        "access_denied": (502, "upstream_error"),
        "end_of_life": (502, "upstream_error"),
        "quota": (429, "rate_limited"),
    },
)
