"""Accounting: API keys, credits and limits, the ledger, and rate limits."""
