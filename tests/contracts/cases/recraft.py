from contracts.cases import ProviderCase

CASE = ProviderCase(provider="recraft", model="recraft/recraft-v4")
