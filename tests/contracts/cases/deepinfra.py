from contracts.cases import ProviderCase

CASE = ProviderCase(provider="deepinfra", model="black-forest-labs/flux.1-schnell")
