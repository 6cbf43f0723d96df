from contracts.cases import ProviderCase

# The Wan task route: every fault is met on the submit, the polls or the result download.
CASE = ProviderCase(
    provider="dashscope",
    model="wan/wan-2.1-t2i-turbo",
    expectations={"unknown": (502, "upstream_error")},
)
