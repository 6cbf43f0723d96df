from contracts.cases import ProviderCase

CASE = ProviderCase(provider="zai", model="z-ai/glm-image")
