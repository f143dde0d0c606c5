import { z } from 'zod';

/**
 * A service's metric gate: during a wave's soak, this PromQL query must stay at or below `max`
 * in every region of the wave for `holdMs` after its machines converged (docs: README, Metric
 * gates). The query is a template: `{{region}}`, `{{build}}` (b42) and `{{service}}` are filled
 * in per region; those values are lower-case letters, digits and dashes, safe inside a PromQL
 * string literal.
 */
export interface MetricGate {
  query: string;
  max: number;
  holdMs: number;
}

/** The names a query template may use. */
export const gatePlaceholders = ['region', 'build', 'service'] as const;
export type GatePlaceholder = (typeof gatePlaceholders)[number];

const placeholder = /\{\{\s*([^}]*?)\s*\}\}/g;

/** The placeholders a template uses that are not known (a typo would otherwise reach Prometheus). */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(placeholder)].map((m) => m[1]!).filter((name) => !(gatePlaceholders as readonly string[]).includes(name));
}

/** The query for one region: every `{{name}}` replaced by its value. */
export function renderGateQuery(template: string, values: Record<GatePlaceholder, string>): string {
  return template.replace(placeholder, (whole, name: string) => ((gatePlaceholders as readonly string[]).includes(name) ? values[name as GatePlaceholder] : whole));
}

/** The longest hold: a gate is a soak, not a second rollout. */
const maxHoldMs = 24 * 3_600_000;

export const metricGateSpec = z
  .strictObject({
    query: z
      .string()
      .trim()
      .min(1, 'give the PromQL query, e.g. sum(rate(http_errors_total{region="{{region}}",build="{{build}}"}[1m]))')
      .max(4000)
      .refine((query) => unknownPlaceholders(query).length === 0, {
        error: (issue) => `unknown placeholder ${unknownPlaceholders(String(issue.input)).map((n) => `{{${n}}}`).join(', ')}: the query may use {{region}}, {{build}} and {{service}}`,
      }),
    max: z.number().finite().meta({ description: 'the wave fails when the query answers more than this in any of its regions' }),
    holdMs: z
      .number()
      .int()
      .min(0)
      .max(maxHoldMs, 'at most 24 hours')
      .default(60_000)
      .meta({ description: "how long after a wave's machines converged the query must stay within bounds before the wave counts as converged (ms)" }),
  })
  .meta({ id: 'MetricGate' });
