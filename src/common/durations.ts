const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `5s,5m,2h` → milliseconds; null when any part is not a duration. */
export function parseSchedule(text: string): number[] | null {
  const steps = text.split(',').map((part) => /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(part));
  if (!steps.length || steps.length > 20 || steps.some((m) => !m)) return null;
  return steps.map((m) => Math.round(Number(m![1]) * UNITS[m![2]]));
}
