"""A sync plan as a person reads it (a diff, one line a change) and as JSON for scripts."""

from __future__ import annotations

from typing import Any

from imagegate.catalog.sync.diff import Note, SyncPlan


def lines(plan: SyncPlan, kept: list[str] | None = None) -> list[str]:
    out = [
        f"{provider}: {count} image model{'' if count == 1 else 's'} listed at {url}"
        for provider, url, count in plan.read
    ]
    for new in plan.new:
        what = "new model" if new.model is not None else "new endpoint"
        name = f" ({new.model['name']})" if new.model else ""
        out.append(f"+ {what} {new.where}{name}: {_prices(new.endpoint['pricing'])}")
    for price in plan.prices:
        out.append(f"~ price {price.where}: {_prices(price.before)} -> {_prices(price.after)}")
    for change in plan.parameters:
        out.append(f"~ parameters {change.where}: {'; '.join(change.changes)}")
    for removal in plan.removals:
        scope = " (its last endpoint: the model goes)" if removal.whole_model else ""
        out.append(f"- removed {removal.where}: no longer listed{scope}")
    out += [f"! deprecated {n.subject}: {n.text}" for n in plan.deprecated]
    out += [f"? not added {n.subject} @ {n.provider}: {n.text}" for n in plan.not_written]
    out += [
        f"? unmapped {n.provider if n.subject.startswith('https://') else n.subject}: {n.text}"
        for n in plan.unmapped
    ]
    out += [f"! problem {n.provider}: {n.text}" for n in plan.problems]
    out += [f"= {text}" for text in kept or ()]
    if not plan.changes:
        out.append("No changes.")
    return out


def as_json(plan: SyncPlan, kept: list[str] | None = None, written: str | None = None) -> Any:
    return {
        "day": plan.day.isoformat(),
        "read": [{"provider": p, "url": u, "models": n} for p, u, n in plan.read],
        "new": [
            {
                "model": n.where.model_id,
                "provider": n.where.provider,
                "native_id": n.where.native_id,
                "new_model": n.model is not None,
                "endpoint": n.endpoint,
            }
            for n in plan.new
        ],
        "prices": [{**_where(c.where), "before": c.before, "after": c.after} for c in plan.prices],
        "parameters": [
            {**_where(c.where), "changes": c.changes, "parameters": c.parameters}
            for c in plan.parameters
        ],
        "removed": [{**_where(r.where), "whole_model": r.whole_model} for r in plan.removals],
        "deprecated": _notes(plan.deprecated),
        "not_added": _notes(plan.not_written),
        "unmapped": _notes(plan.unmapped),
        "problems": _notes(plan.problems),
        "kept": list(kept or ()),
        "written": written,
    }


def _where(where: Any) -> dict[str, str]:
    return {"model": where.model_id, "provider": where.provider, "native_id": where.native_id}


def _notes(notes: list[Note]) -> list[dict[str, str]]:
    return [note.as_dict() for note in notes]


def _prices(pricing: list[dict[str, Any]]) -> str:
    parts = []
    for line in pricing:
        variant = f" [{line['variant']}]" if line.get("variant") else ""
        steps = f" at {line['at_steps']} steps" if line.get("at_steps") else ""
        parts.append(f"{line['billable']} ${line['cost_usd']:g} per {line['unit']}{variant}{steps}")
    return ", ".join(parts) or "no price"
