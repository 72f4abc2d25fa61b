import fs from 'node:fs';
import path from 'node:path';

interface Run {
  runDir: string;
  logDir: string;
  cleanUp(): Promise<void>;
}

/**
 * Stops the server and PostgreSQL and removes the run's folder from the temp folder. When a
 * test failed (summary-reporter.js says so; it reports before this runs), the server logs
 * are moved aside first and their folder printed, for the failure to stay debuggable.
 */
export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as Record<string, unknown>).__orgsTestRun as Run | undefined;
  if (!run) return;
  const failed = (globalThis as Record<string, unknown>).__orgsTestFailed !== false;
  let kept: string | undefined;
  if (failed) {
    kept = `${run.runDir}-logs`;
    fs.renameSync(run.logDir, kept);
  }
  await run.cleanUp();
  if (kept) console.log(`[teardown] a test failed: the server logs are kept in ${kept}${path.sep}`);
}
