/** The public API is the reviewed one: its report, packages/ngrok-tunnel/api/ngrok-tunnel.api.md (see tools/testing/api-report.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apiReportProblem } from '../../../tools/testing/api-report.ts';

test('the public API is the one in api/ngrok-tunnel.api.md', () => {
  const problem = apiReportProblem('ngrok-tunnel');
  assert.ok(problem === undefined, problem);
});

test.run();
