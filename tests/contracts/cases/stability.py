from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="stability",
    model="stabilityai/stable-image-core",
    edit_model="stabilityai/sd3.5-large",
    # 200 with finish-reason CONTENT_FILTERED: the service blurred the output
    expectations={"filtered": (403, "content_policy")},
)
