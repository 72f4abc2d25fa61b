/** Ends every run with one plain line, "Tests: N passed, N failed, N skipped", that any CI can read; tells the teardown whether anything failed. */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, numRuntimeErrorTestSuites } = results;
    const failed = numFailedTests + numRuntimeErrorTestSuites;
    process.stdout.write(`\nTests: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped\n`);
    // For test/support/global-teardown.ts (same process, runs after this): keep the server logs of a failed run.
    globalThis.__orgsTestFailed = failed > 0;
  }
}
module.exports = SummaryReporter;
