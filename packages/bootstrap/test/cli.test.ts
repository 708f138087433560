import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import { cliConventionTests } from '../../../tools/testing/cli.ts';

cliConventionTests(fileURLToPath(new URL('..', import.meta.url)));

test.run();
