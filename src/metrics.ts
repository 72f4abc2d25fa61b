import client from 'prom-client';

/** Process metrics plus what an operator of a GraphQL subgraph watches. */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    operations: new client.Histogram({
      name: 'graphql_operation_duration_seconds',
      help: 'GraphQL operations by name, type and outcome',
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
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
