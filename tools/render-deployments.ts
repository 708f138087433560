#!/usr/bin/env tsx
/**
 * Renders the box's platform (the local profile, and its optional tunnel) into infrastructure/deployments, the seed's folder.
 * A manifests test fails while the checked-in copy is stale: run `npx projen render-deployments` and commit.
 */
import { fileURLToPath } from 'node:url';
import { boxFiles, writeRendered } from '@airy/manifests';

const dir = fileURLToPath(new URL('../infrastructure/deployments', import.meta.url));
const files = boxFiles();
await writeRendered(dir, files);
console.log(`wrote ${files.size} files to infrastructure/deployments`);
