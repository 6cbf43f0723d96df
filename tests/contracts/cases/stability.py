from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="stability",
    model="stabilityai/stable-image-core",
    edit_model="stabilityai/sd3.5-large",
    # 200 with finish-reason CONTENT_FILTERED: the service blurred the output
    # Stability's 413 (a body it will not take) is the client's too large a request
    expectations={"filtered": (403, "content_policy"), "too_large": (413, "payload_too_large")},
)
