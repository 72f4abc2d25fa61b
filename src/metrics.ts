import client from 'prom-client';

/** Distinct operation names that get a label of their own; later names are counted as `other`. */
export const MAX_OPERATION_LABELS = 100;
/** A GraphQL name of at most 64 characters: longer ones are not names an application chose to read on a dashboard. */
const LABELLED_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/**
 * The `operation` label of a request: `anonymous` when it has none; with an allowlist
 * (METRICS_OPERATION_NAMES), its name if listed; without one, its name once an operation of
 * that name ran without errors, while fewer than MAX_OPERATION_LABELS have; `other` for the
 * rest. Names come from clients: unbounded, they would grow every series in the registry (and
 * its memory) forever. Without the list, the first clients to send a hundred valid names take
 * the labels until a restart: production dashboards name their operations in the list.
 */
function operationLabeller(allowed: ReadonlySet<string> | undefined) {
  const known = new Set<string>();
  return (name: string | null | undefined, succeeded: boolean): string => {
    if (!name) return 'anonymous';
    if (allowed) return allowed.has(name) ? name : 'other';
    if (known.has(name)) return name;
    if (!succeeded || known.size >= MAX_OPERATION_LABELS || !LABELLED_NAME.test(name) || name === 'anonymous' || name === 'other') return 'other';
    known.add(name);
    return name;
  };
}

/** Process metrics plus what an operator of a GraphQL subgraph watches. */
export function createMetrics(operationNames?: ReadonlySet<string>) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    operationLabel: operationLabeller(operationNames),
    httpRequests: new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    operations: new client.Histogram({
      name: 'graphql_operation_duration_seconds',
      help: `GraphQL operations by name (METRICS_OPERATION_NAMES, else the first ${MAX_OPERATION_LABELS} that ran without errors; the rest "other"), type and outcome`,
      labelNames: ['operation', 'type', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    sqlStatements: new client.Histogram({
      name: 'graphql_operation_sql_statements',
      help: 'SQL statements per GraphQL operation',
      labelNames: ['operation'] as const,
      buckets: [0, 1, 2, 3, 5, 8, 13, 21, 50, 100],
      registers: [registry],
    }),
    webhookLag: new client.Histogram({
      name: 'webhook_delivery_lag_seconds',
      help: 'From an event to its successful webhook delivery (retries included)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36_000, 86_400],
      registers: [registry],
    }),
    webhookAttempts: new client.Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts by outcome (success: any 2xx)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    webhookFailures: new client.Counter({
      name: 'webhook_deliveries_failed_total',
      help: 'Webhook deliveries given up: retry schedule spent, 410 Gone, or the event past retention',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
