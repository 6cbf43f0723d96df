from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="bfl", model="black-forest-labs/flux.2-pro", edit_model="black-forest-labs/flux.2-pro"
)
