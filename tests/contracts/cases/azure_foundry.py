from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="azure-foundry",
    model="black-forest-labs/flux.2-pro",
    edit_model="microsoft/mai-image-2.6",
)
