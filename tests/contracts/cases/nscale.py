from contracts.cases import ProviderCase

CASE = ProviderCase(provider="nscale", model="black-forest-labs/flux.1-schnell")
