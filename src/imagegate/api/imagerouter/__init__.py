"""ImageRouter's dialect: /v2/models and /v1/openai/images."""
