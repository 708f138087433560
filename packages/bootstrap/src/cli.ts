#!/usr/bin/env node
import { createProgram, packageVersion, runCli } from '@airy/manifests/cli-kit';

const program = createProgram({
  name: 'airy-bootstrap',
  description: 'Take a clean laptop to a running, verified Airy Core.',
  version: packageVersion(import.meta.url),
});
// No commands yet: without one, show the help as a usage error.
program.action(() => program.help({ error: true }));

await runCli(program);
