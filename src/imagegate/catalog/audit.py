"""What an operator should look at in a catalog: models and endpoints their providers have
deprecated or retired, and prices whose source is missing, second-hand, or not checked for a
while (`imagegate catalog check`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from imagegate.catalog.lifecycle import HasLifecycle, is_deprecated, is_retired, retirement
from imagegate.catalog.price_source import PriceSource
from imagegate.catalog.schema import Endpoint, Model

DEFAULT_MAX_AGE_DAYS = 90


@dataclass(frozen=True, slots=True)
class Finding:
    # retired, deprecated; no price source, stale price source, aggregator price, second-hand
    # price, unconfirmed price
    kind: str
    model: str
    provider: str | None = None  # None: the model as a whole
    retires_on: str | None = None
    days_left: int | None = None
    successor: str | None = None
    url: str | None = None
    verified_on: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def audit(
    models: list[Model], on: dt.date, max_age_days: int = DEFAULT_MAX_AGE_DAYS
) -> list[Finding]:
    """Lifecycle findings, soonest retirement first, then the price sources to re-verify (of
    what is still served: a retired model's prices bill nothing)."""
    lifecycle: list[Finding] = []
    sources: list[Finding] = []
    for model in models:
        gone = retirement(model, on)
        if gone is not None:
            lifecycle.append(
                Finding(
                    "retired",
                    model.id,
                    retires_on=gone.on.isoformat(),
                    days_left=0,
                    successor=gone.successor,
                )
            )
            continue
        if is_deprecated(model, on):
            lifecycle.append(_lifecycle_finding("deprecated", model.id, None, model, on))
        for endpoint in model.endpoints:
            if is_retired(endpoint, on):  # bills nothing more: its prices need no re-check
                lifecycle.append(
                    _lifecycle_finding("retired", model.id, endpoint.provider, endpoint, on)
                )
                continue
            if is_deprecated(endpoint, on):
                lifecycle.append(
                    _lifecycle_finding("deprecated", model.id, endpoint.provider, endpoint, on)
                )
            sources += _source_findings(model, endpoint, on, max_age_days)
    lifecycle.sort(key=lambda f: (f.retires_on or "9999", f.model, f.provider or ""))
    return lifecycle + sources


def _lifecycle_finding(
    kind: str, model: str, provider: str | None, record: HasLifecycle, on: dt.date
) -> Finding:
    retires = record.retires_on
    return Finding(
        kind,
        model,
        provider,
        retires_on=retires.isoformat() if retires else None,
        days_left=max((retires - on).days, 0) if retires else None,
        successor=record.successor,
    )


def _source_findings(
    model: Model, endpoint: Endpoint, on: dt.date, max_age_days: int
) -> list[Finding]:
    findings: list[Finding] = []
    cited: dict[PriceSource, None] = {}
    for line in endpoint.pricing:
        source = endpoint.line_source(line)
        if source is None:
            return [Finding("no price source", model.id, endpoint.provider)]
        cited[source] = None
    for source in cited:
        if source.publisher == "gateway":
            continue
        verified = source.verified_on
        where = {"url": source.url, "verified_on": verified.isoformat() if verified else None}
        if verified is not None and (on - verified).days > max_age_days:
            findings.append(Finding("stale price source", model.id, endpoint.provider, **where))
        if source.publisher == "aggregator":
            findings.append(Finding("aggregator price", model.id, endpoint.provider, **where))
        if source.unconfirmed:
            findings.append(Finding("unconfirmed price", model.id, endpoint.provider, **where))
        elif not source.first_hand:
            findings.append(Finding("second-hand price", model.id, endpoint.provider, **where))
    return findings
