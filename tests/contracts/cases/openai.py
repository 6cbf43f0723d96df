from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="openai",
    model="openai/gpt-image-1",
    edit_model="openai/gpt-image-1",
    stream_model="openai/gpt-image-1",
)
