from contracts.cases import ProviderCase

CASE = ProviderCase(provider="aimlapi", model="x-ai/grok-imagine-image")
