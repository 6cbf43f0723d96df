from contracts.cases import ProviderCase

CASE = ProviderCase(provider="nanogpt", model="openai/gpt-image-2")
