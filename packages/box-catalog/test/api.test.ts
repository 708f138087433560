/** The public API is the reviewed one: its report, packages/box-catalog/api/box-catalog.api.md (see tools/testing/api-report.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apiReportProblem } from '../../../tools/testing/api-report.ts';

test('the public API is the one in api/box-catalog.api.md', () => {
  const problem = apiReportProblem('box-catalog');
  assert.ok(problem === undefined, problem);
});

test.run();
