#!/usr/bin/env tsx
/**
 * Each package's public API, pinned: Microsoft's API Extractor reads the package's compiled `lib/index.d.ts` and
 * writes its report, `packages/X/api/X.api.md` (every export with its signature), which is committed and reviewed
 * like code. Every package's tests compare the surface with that report (`apiReportProblem`), so an export added,
 * removed or changed without its report fails the README's test command, naming the package and the command.
 *
 * `npx projen api` (compile, then this script with `--update`) writes every report after a change you meant.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The command that writes every report. */
export const API_UPDATE_COMMAND = 'npx projen api';

/** Where a package's committed report is. */
export const reportPath = (pkg: string) => join(repo, 'packages', pkg, 'api', `${pkg}.api.md`);

/**
 * Runs API Extractor on one package (compiled). `update`: writes the committed report; otherwise writes the
 * report of today's surface into `tempFolder` only. Returns whether the surface differs from the committed report.
 */
function extract(pkg: string, update: boolean, tempFolder: string): { changed: boolean; current: string } {
  const projectFolder = join(repo, 'packages', pkg);
  if (update) mkdirSync(join(projectFolder, 'api'), { recursive: true });
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder,
      mainEntryPointFilePath: '<projectFolder>/lib/index.d.ts',
      // Only the declarations the package ships: what a consumer's compiler sees.
      compiler: {
        overrideTsconfig: {
          compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: true, types: ['node'] },
          files: ['lib/index.d.ts'],
        },
      },
      apiReport: { enabled: true, reportFileName: '<unscopedPackageName>.api.md', reportFolder: '<projectFolder>/api/', reportTempFolder: tempFolder },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      // The report says what it found (a type used but not exported, say) as notes in the file itself.
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
          // No release tags (@public, @beta): everything exported is public. Links inside comments are not the API.
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-unresolved-link': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(projectFolder, 'package.json'),
  });
  const result = Extractor.invoke(config, {
    localBuild: update,
    // Its own lines (a changed report, the TypeScript it bundles) are not ours to print: the caller says what matters.
    messageCallback: (message) => {
      if (message.logLevel !== ExtractorLogLevel.Error) message.handled = true;
    },
  });
  if (result.errorCount > 0) throw new Error(`API Extractor found ${result.errorCount} errors in packages/${pkg} (above): is its lib/ compiled? (npx nx run ${pkg}:compile)`);
  const current = readFileSync(update ? reportPath(pkg) : join(tempFolder, `${pkg}.api.md`), 'utf8');
  return { changed: result.apiReportChanged, current };
}

/** The first lines that differ between two reports, as `- old` / `+ new`, for the message. */
function differences(before: string, after: string, most = 20): string[] {
  const [old, now] = [new Set(before.split('\n')), new Set(after.split('\n'))];
  const lines = [...[...old].filter((l) => l.trim() && !now.has(l)).map((l) => `- ${l}`), ...[...now].filter((l) => l.trim() && !old.has(l)).map((l) => `+ ${l}`)];
  return lines.length > most ? [...lines.slice(0, most), `… and ${lines.length - most} more lines`] : lines;
}

/**
 * Why a package's public API is not the reviewed one (its compiled surface differs from its committed report), or
 * undefined when it is. The message names the package, the report and the command that rewrites it.
 */
export function apiReportProblem(pkg: string): string | undefined {
  const temp = mkdtempSync(join(tmpdir(), `airy-api-${pkg}-`));
  try {
    const committed = readFileSync(reportPath(pkg), 'utf8').replace(/\r\n/g, '\n');
    const { changed, current } = extract(pkg, false, temp);
    // A signature that names a type the entry point does not export: a consumer could not name it.
    const forgotten = [...current.matchAll(/\(ae-forgotten-export\) The symbol "([^"]+)"/g)].map((m) => m[1]);
    if (forgotten.length > 0) return `@airy/${pkg}'s public API names ${forgotten.join(', ')}, which src/index.ts does not export: export each as a type`;
    if (!changed) return undefined;
    return [
      `@airy/${pkg}'s public API differs from packages/${pkg}/api/${pkg}.api.md: review the change; if it is meant, run \`${API_UPDATE_COMMAND}\` and commit the report`,
      ...differences(committed, current),
    ].join('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return `packages/${pkg}/api/${pkg}.api.md is missing: run \`${API_UPDATE_COMMAND}\` and commit it`;
    throw error;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The packages with a public API: every folder of packages/ with a package.json (.projenrc.ts names them). */
const packages = () => readdirSync(join(repo, 'packages')).filter((name) => existsSync(join(repo, 'packages', name, 'package.json'))).sort();

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!process.argv.includes('--update')) {
    process.stderr.write('usage: tsx tools/testing/api-report.ts --update (or `npx projen api`, which compiles first)\n');
    process.exit(2);
  }
  const temp = mkdtempSync(join(tmpdir(), 'airy-api-'));
  try {
    for (const pkg of packages()) {
      const { changed } = extract(pkg, true, temp);
      process.stdout.write(`packages/${pkg}/api/${pkg}.api.md: ${changed ? 'written (review the diff)' : 'unchanged'}\n`);
    }
  } catch (error) {
    process.stderr.write(`api-report: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
