#!/usr/bin/env node
import { createProgram, packageVersion, runCli } from '@airy/manifests/cli-kit';

const program = createProgram({
  name: 'airy-box',
  description: 'Build the Airy Core Vagrant box with Packer and publish it to S3 as a versioned catalog.',
  version: packageVersion(import.meta.url),
});
// No commands yet: without one, show the help as a usage error.
program.action(() => program.help({ error: true }));

await runCli(program);
