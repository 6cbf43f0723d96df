from contracts.cases import ProviderCase

CASE = ProviderCase(
    provider="luma",
    model="luma/photon",
    # no edit_model: Luma takes references only as URLs it fetches, never bytes
    expectations={
        "output_moderated": (403, "content_policy"),  # the generation failed moderation
        # never finishes: polling runs out of time (and the generation is deleted)
        "stuck": (504, "upstream_timeout"),
    },
)
