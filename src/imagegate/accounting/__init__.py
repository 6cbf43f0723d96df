"""Accounting: API keys, holds against their USD limits, rate limits and usage."""
