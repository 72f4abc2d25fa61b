/**
 * Preloaded (`node -r`) into every server the benchmark starts. graphql-js decides at import,
 * from NODE_ENV, whether to run its development checks (an `instanceof` fallback on every
 * type test: a third of the ceiling's CPU). The benchmark runs its servers with
 * NODE_ENV=development, because the BENCH_ switches are refused in production; this loads
 * graphql-js as a production deployment does, and puts NODE_ENV back before anything else reads it.
 */
const nodeEnv = process.env.NODE_ENV;
process.env.NODE_ENV = 'production';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an import would be hoisted above the assignment
require('graphql');
if (nodeEnv === undefined) delete process.env.NODE_ENV;
else process.env.NODE_ENV = nodeEnv;
