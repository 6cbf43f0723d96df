from contracts.cases import ProviderCase

# Text-to-image and references go through OpenRouter's Image API (FLUX.2 writes no text);
# streaming through chat completions (Gemini writes text, which is wanted by default).
# `midstream` fails an unstreamed request with OpenRouter's 502 "Provider returned error".
CASE = ProviderCase(
    provider="openrouter",
    model="black-forest-labs/flux.2-pro",
    edit_model="black-forest-labs/flux.2-pro",
    stream_model="google/gemini-2.5-flash-image",
    expectations={"midstream": (502, "upstream_error")},
)
