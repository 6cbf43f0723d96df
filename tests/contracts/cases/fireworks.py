from contracts.cases import ProviderCase

# Kontext runs the asynchronous workflow (submit, poll, download), where every fault lives;
# the synchronous FLUX route has its own contract tests.
CASE = ProviderCase(
    provider="fireworks",
    model="black-forest-labs/flux.1-kontext-pro",
    edit_model="black-forest-labs/flux.1-kontext-pro",
)
