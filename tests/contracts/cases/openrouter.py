from contracts.cases import ProviderCase

# Text-to-image, references and streaming go through OpenRouter's Image API: FLUX.2 writes no
# text, and without native streaming its stream is read buffered. (The chat path, for a model
# that writes text, is in test_openrouter_contract.py: no bundled OpenRouter model writes text.)
# `midstream` fails an unstreamed request with OpenRouter's 502 "Provider returned error".
CASE = ProviderCase(
    provider="openrouter",
    model="black-forest-labs/flux.2-pro",
    edit_model="black-forest-labs/flux.2-pro",
    stream_model="black-forest-labs/flux.2-pro",
    expectations={"midstream": (502, "upstream_error")},
)
