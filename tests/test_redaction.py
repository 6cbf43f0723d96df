"""What the gateway masks in its messages: every provider's key, variables named like a secret
however they are qualified, and not a provider's setting that is no credential."""

from __future__ import annotations

import secrets

from imagegate.config import Settings
from imagegate.gateway.service import gateway_redactor
from imagegate.providers.served_catalog import build_catalog


def test_keys_and_secret_variables_are_masked_and_a_region_is_not() -> None:
    env = {
        "OPENAI_API_KEY": "plain" + secrets.token_hex(8),  # no recognisable shape
        "AWS_BEARER_TOKEN_BEDROCK": "bedrock" + secrets.token_hex(8),
        "BEDROCK_REGION": "us-west-2",
        "VERTEX_PROJECT": "pixel-factory-123",
    }
    redactor = gateway_redactor(Settings(), build_catalog(None, env), env)
    said = redactor.redact(" | ".join(env.values()))
    assert said == "[REDACTED] | [REDACTED] | us-west-2 | pixel-factory-123"
