"""Keeping credentials out of everything the gateway says: error messages, records and logs.

An upstream may echo the key it was sent ("Incorrect API key provided: sk-…"), and a connection
error names the upstream's host. A `Redactor` knows every credential the process was configured
with (the providers' key variables, the master key, passwords in the database and Redis URLs,
any environment variable named like a secret) and the shapes credentials take (`sk-…`, `r8_…`,
`AIza…`, `Bearer …`, `key=…`); `redact` replaces each with `[REDACTED]`. `RedactingFilter` does
the same to every log record a handler emits, traceback included.
"""

from __future__ import annotations

import logging
import numbers
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import urlsplit

MASK = "[REDACTED]"
MIN_SECRET_LENGTH = 8  # shorter values would mask ordinary words
SHORT_TEXT = 256  # characters: texts this short have their answers remembered
SHORT_TEXTS_CACHED = 4096
# variables named like a secret: ending in its kind, or naming it before a qualifier
# (AWS_BEARER_TOKEN_BEDROCK)
_SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$|_(BEARER_TOKEN|SECRET|PASSWORD)_", re.IGNORECASE
)

# Shapes of credentials, whoever they belong to.
_SHAPES = re.compile(
    "|".join(
        (
            r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{12,}",  # OpenAI, Anthropic, OpenRouter, Stripe
            r"\br8_[A-Za-z0-9]{16,}",  # Replicate
            r"\bxai-[A-Za-z0-9]{16,}",  # xAI
            r"\bAIza[0-9A-Za-z_\-]{30,}",  # Google API keys
            r"\bya29\.[0-9A-Za-z_\-.]{16,}",  # Google OAuth access tokens
            r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key ids
            r"\big-[A-Za-z0-9_\-]{20,}",  # imagegate's own keys
            r"\bwhsec_[A-Za-z0-9+/]{16,}={0,2}",  # webhook signing secrets (Standard Webhooks)
            r"\bgh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
            # fal: "<uuid>:<hex secret>"
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{16,}",
            r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWTs
        )
    )
)
# A credential after the word that introduces it: `Bearer x`, `api_key=x`, `"x-key": "x"`. The
# value must look random (16 or more characters, a digit among them), so that "invalid key:
# aspect_ratio" stays readable.
_INTRODUCED = re.compile(
    r"(?i)(\b(?:bearer|basic)\s+|"
    r"\b(?:api[_-]?key|x-key|x-goog-api-key|access[_-]?token|auth[_-]?token|token|secret|"
    r"password|passwd|authorization|key)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|key|token)\s+)?)"
    r"((?=[A-Za-z._~+/\-]*\d)[A-Za-z0-9._~+/\-]{16,}=*)"
)
# userinfo in a URL: scheme://user:password@host
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]*:)([^@\s/]+)(@)")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        kept = {secret for secret in secrets if secret and len(secret) >= MIN_SECRET_LENGTH}
        # longest first, so a secret that contains another is masked whole
        ordered = sorted(kept, key=len, reverse=True)
        self._literal = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None
        # Short texts repeat (an access log line's method, path, format string): each is
        # scanned once. A redactor's secrets never change, so neither does its answer.
        self._short = lru_cache(maxsize=SHORT_TEXTS_CACHED)(self._scan)

    def __call__(self, text: str) -> str:
        return self.redact(text)

    def redact(self, text: str) -> str:
        if not text:
            return text
        if len(text) <= SHORT_TEXT:
            return self._short(text)
        return self._scan(text)

    def _scan(self, text: str) -> str:
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        text = _URL_PASSWORD.sub(lambda m: f"{m[1]}{MASK}{m[3]}", text)
        text = _SHAPES.sub(MASK, text)
        return _INTRODUCED.sub(lambda m: f"{m[1]}{MASK}", text)


def configured_secrets(
    env: Mapping[str, str], key_variables: Iterable[str], extra: Iterable[str | None] = ()
) -> list[str]:
    """Every credential the process holds: the providers' key variables, every environment
    variable named like a secret, passwords in URLs among `extra`, and `extra` itself."""
    names = {*key_variables, *(name for name in env if _SECRET_NAME.search(name))}
    secrets = [env[name] for name in names if env.get(name)]
    for value in extra:
        if not value:
            continue
        if "://" in value:  # a URL: its password, if it has one, not the whole URL
            password = _url_password(value)
            if password:
                secrets.append(password)
        else:
            secrets.append(value)
    return secrets


def _url_password(value: str) -> str | None:
    if "://" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and its traceback) through the redactor. Attach it to
    handlers: a logger's own filters do not see records its children propagate."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self.redactor
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        # arguments stay arguments (formatters such as uvicorn's access log read them), each
        # redacted (`_redacted_argument`)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_argument(value, redact) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted_argument(v, redact) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redacted_argument(value: object, redact: Redactor) -> object:
    """Text redacted; numbers as they are (`%d` still takes them); anything else as it is
    unless what it prints holds a credential, then that text redacted."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, numbers.Number):
        return value
    text = str(value)
    masked = redact(text)
    return value if masked == text else masked


def redact_every_handler(redactor: Redactor) -> None:
    """Puts a `RedactingFilter` on every handler logging has now (the root's, every logger's,
    and the last-resort one that prints when no handler is configured)."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    handlers = [handler for logger in loggers for handler in logger.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        existing = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        if existing:  # a later gateway in this process: its credentials are the ones now
            existing[0].redactor = redactor
        else:
            handler.addFilter(RedactingFilter(redactor))
