#!/usr/bin/env node
import { createProgram, packageVersion, runCli } from './cli-kit.js';

const program = createProgram({
  name: 'airy-manifests',
  description: 'Render, validate and inspect the Kubernetes manifests of the Airy Core Platform.',
  version: packageVersion(import.meta.url),
});
program.action(() => program.help({ error: true }));

await runCli(program);
