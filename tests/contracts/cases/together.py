from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="together",
    model="black-forest-labs/flux.1-schnell",
    edit_model="black-forest-labs/flux.1-kontext-pro",
)
