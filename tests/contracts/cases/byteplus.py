from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="byteplus",
    model="bytedance-seed/seedream-4",
    edit_model="bytedance-seed/seedream-4",
    stream_model="bytedance-seed/seedream-4",
)
