/** The public API is the reviewed one: its report, packages/cli-kit/api/cli-kit.api.md (see tools/testing/api-report.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apiReportProblem } from '../../../tools/testing/api-report.ts';

test('the public API is the one in api/cli-kit.api.md', () => {
  const problem = apiReportProblem('cli-kit');
  assert.ok(problem === undefined, problem);
});

test.run();
