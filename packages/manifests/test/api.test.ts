/** The public API is the reviewed one: its report, packages/manifests/api/manifests.api.md (see tools/testing/api-report.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apiReportProblem } from '../../../tools/testing/api-report.ts';

test('the public API is the one in api/manifests.api.md', () => {
  const problem = apiReportProblem('manifests');
  assert.ok(problem === undefined, problem);
});

test.run();
