// Dollars to the last cent fraction a price carries: spend and costs are compared with the
// records and the ledger, so they are not rounded to 4 places as a price list may be.
export function exactUsd(amount) {
  if (amount === null || amount === undefined) return "—";
  const fixed = Number(amount).toFixed(6);
  const [whole, fraction] = fixed.split(".");
  const trimmed = fraction.replace(/0+$/, "").padEnd(2, "0");
  return `$${whole}.${trimmed}`;
}
