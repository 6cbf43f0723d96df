"""OpenAI's dialect: /v1/models and the Images API."""
