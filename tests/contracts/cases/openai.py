from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="openai",
    model="openai/gpt-image-2.5-flare",
    edit_model="openai/gpt-image-2.5-sunburst",
    stream_model="openai/gpt-image-2.6-flare",
)
