"""OpenRouter's dialect: /api/v1 discovery, chat completions and the Image API."""
