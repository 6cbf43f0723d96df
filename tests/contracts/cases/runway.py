from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="runway",
    model="runway/gen4-image",
    edit_model="runway/gen4-image-turbo",
    expectations={
        "output_moderated": (403, "content_policy"),  # SAFETY.OUTPUT.*: a refusal too
        "cancelled": (502, "upstream_error"),  # the task was cancelled at Runway
        "throttled": (200, None),  # queued behind the account's limit, then it runs
        # never finishes: polling runs out of time (and the task is deleted)
        "stuck": (504, "upstream_timeout"),
    },
)
