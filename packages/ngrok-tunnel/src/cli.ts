#!/usr/bin/env node
import { createProgram, packageVersion, runCli } from '@airy/manifests/cli-kit';

const program = createProgram({
  name: 'airy-tunnel',
  description: 'Bring webhooks to a local Airy Core through a supervised ngrok tunnel.',
  version: packageVersion(import.meta.url),
});
// No commands yet: without one, show the help as a usage error.
program.action(() => program.help({ error: true }));

await runCli(program);
