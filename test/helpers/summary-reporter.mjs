// A node:test reporter that writes one JSON line per test (not per suite): its file, name, outcome
// and, for a skip, the reason. test/run.ts reads these lines to end the run with one summary.
export default async function* summaryReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    if (data.details?.type === 'suite') {
      // A skipped suite stands for all its tests: report it, since its tests emit nothing of their own.
      if (data.skip === undefined) continue;
    }
    let outcome = event.type === 'test:pass' ? 'passed' : 'failed';
    if (data.skip !== undefined) outcome = 'skipped';
    else if (data.todo !== undefined) outcome = 'todo';
    else if (event.type === 'test:fail' && data.details?.error?.failureType === 'cancelledByParent') outcome = 'cancelled';
    const reason = typeof data.skip === 'string' ? data.skip : data.skip === true ? '(no reason given)' : undefined;
    yield `${JSON.stringify({ file: data.file, name: data.name, suite: data.details?.type === 'suite', outcome, reason })}\n`;
  }
}
