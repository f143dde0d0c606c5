import { z } from 'zod';

const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration written as `500ms`, `30s`, `15m`, `1h`, `7d` or a bare number of seconds, parsed to
 * milliseconds. Operators write durations by hand; a bare `30` meaning seconds is what they expect.
 */
export const durationOrZeroMs = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/, 'must be a duration such as 500ms, 30s, 15m or 1h')
  .transform((text) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text)!;
    return Math.round(Number(match[1]) * units[match[2] ?? 's']!);
  });

/** A duration that must be longer than zero (timeouts, intervals). */
export const durationMs = durationOrZeroMs.refine((ms) => ms > 0, 'must be longer than zero');

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** For sentences: `15 min`, `30 s`, `250 ms`. */
export function humanDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1_000) return `${Number((ms / 1_000).toFixed(1))} s`;
  return `${ms} ms`;
}
