// Times from the APIs, shown in the reader's own time zone. A timestamp without an offset (a
// key's `created_at` read back from SQLite) is UTC, as every time the gateway stores.
const HAS_ZONE = /(Z|[+-]\d\d:?\d\d)$/;

export function instant(text) {
  if (!text) return null;
  const parsed = new Date(HAS_ZONE.test(text) ? text : `${text}Z`);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}

export function localTime(text) {
  const parsed = instant(text);
  return parsed ? parsed.toLocaleString() : "—";
}

// "2 min ago" style age, for lists where the exact time is in the title.
export function age(text, now = Date.now()) {
  const parsed = instant(text);
  if (!parsed) return "—";
  const seconds = Math.max(0, Math.round((now - parsed.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return parsed.toLocaleDateString();
}
