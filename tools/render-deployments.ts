#!/usr/bin/env tsx
/**
 * Renders the box's platform (the local profile) into infrastructure/deployments, the seed's folder.
 * A manifests test fails while the checked-in copy is stale: run `npx projen render-deployments` and commit.
 */
import { fileURLToPath } from 'node:url';
import { BOX_PLATFORM_OPTIONS, renderFiles, renderPlatform, writeRendered } from '@airy/manifests';

const dir = fileURLToPath(new URL('../infrastructure/deployments', import.meta.url));
const files = renderFiles(renderPlatform(BOX_PLATFORM_OPTIONS));
await writeRendered(dir, files);
console.log(`wrote ${files.size} files to infrastructure/deployments`);
