from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="xai", model="x-ai/grok-imagine-image", edit_model="x-ai/grok-imagine-image"
)
