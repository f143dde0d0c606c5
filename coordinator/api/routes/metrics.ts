import type { ApiContext } from '../api-context.ts';
import type { CoordinatorMetrics } from '../metrics/coordinator-metrics.ts';
import { defineRoute, type Route } from '../route.ts';

export function metricsRoutes(_context: ApiContext, metrics: CoordinatorMetrics): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics (no token): builds by status, queue depth and age, heartbeat age, build durations, process',
      scope: null,
      action: 'read metrics',
      responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain; version=0.0.4' } },
      async handle({ reply }) {
        const text = await metrics.scrape();
        void reply.type(metrics.contentType);
        return text;
      },
    }),
  ];
}
