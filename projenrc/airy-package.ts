import { JsonFile, javascript, typescript } from 'projen';
import { TOOLING } from './versions';

/** What makes one Airy package different from the other three. */
export interface AiryPackageOptions {
  /** Folder under `packages/` and the package name without the scope. */
  readonly name: string;
  readonly description: string;
  /** Executable names, each mapped to `lib/cli.js`. */
  readonly bin?: string;
  /** Runtime dependencies, `name@version`. */
  readonly deps?: string[];
  /** Test and build dependencies, `name@version`. */
  readonly devDeps?: string[];
  /** Other Airy packages this one imports (workspace links). */
  readonly airyDeps?: AiryPackage[];
  /** Nx targets besides build, test and lint: name → shell command run in the package folder. */
  readonly extraTargets?: Record<string, { command: string; description: string }>;
  /** Subpath exports besides ".", e.g. `{ './cli-kit': 'cli-kit' }` → lib/cli-kit.js. */
  readonly subpaths?: Record<string, string>;
}

/**
 * One Airy package: strict ESM TypeScript compiled by tsc to lib/, uvu tests in test/ run through tsx,
 * Biome lint plus a type check of the tests. Made the same way for every package.
 */
export class AiryPackage extends typescript.TypeScriptProject {
  public readonly packageName: string;

  constructor(root: typescript.TypeScriptProject, options: AiryPackageOptions) {
    const packageName = `@airy/${options.name}`;
    super({
      parent: root,
      outdir: `packages/${options.name}`,
      name: packageName,
      description: options.description,
      defaultReleaseBranch: 'main',
      packageManager: javascript.NodePackageManager.NPM,
      minNodeVersion: undefined,
      typescriptVersion: TOOLING.typescript,
      projenVersion: root.package.projenVersion,
      deps: [...(options.deps ?? []), ...(options.airyDeps ?? []).map((p) => `${p.packageName}@0.0.0`)],
      devDeps: [`@types/node@${TOOLING.typesNode}`, ...(options.devDeps ?? [])],
      sampleCode: false,
      jest: false,
      eslint: false,
      prettier: false,
      github: false,
      release: false,
      buildWorkflow: false,
      depsUpgrade: false,
      pullRequestTemplate: false,
      package: false,
      npmignoreEnabled: false,
      licensed: true,
      license: 'Apache-2.0',
      entrypoint: 'lib/index.js',
      tsconfig: {
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: javascript.TypeScriptModuleResolution.NODE_NEXT,
          target: 'ES2022',
          lib: ['ES2022'],
          declaration: true,
          strict: true,
          noUnusedLocals: true,
          noUnusedParameters: true,
          noImplicitReturns: true,
          noFallthroughCasesInSwitch: true,
          esModuleInterop: true,
          skipLibCheck: true,
          inlineSourceMap: false,
          inlineSources: false,
          sourceMap: true,
          experimentalDecorators: false,
          types: ['node'],
        },
      },
      tsconfigDev: {
        // Tests import .ts files directly (run through tsx) and share helpers under tools/testing.
        compilerOptions: { noEmit: true, rootDir: '../../..', allowImportingTsExtensions: true },
        include: ['../src/**/*.ts'],
      },
    });
    this.packageName = packageName;

    const subpaths = { '.': 'index', ...(options.subpaths ?? {}) };
    this.package.addField('type', 'module');
    this.package.addField('engines', { node: TOOLING.node });
    this.package.addField('files', ['lib/**/*.js', 'lib/**/*.d.ts', '!lib/**/*.test.*']);
    this.package.addField(
      'exports',
      Object.fromEntries(
        Object.entries(subpaths).map(([sub, file]) => [sub, { types: `./lib/${file}.d.ts`, import: `./lib/${file}.js` }]),
      ),
    );
    if (options.bin) {
      this.package.addBin({ [options.bin]: 'lib/cli.js' });
      // npm makes bins executable only when they exist at install time; in the workspace they are built later.
      this.compileTask.exec('chmod +x lib/cli.js');
    }

    // npm workspaces install everything once, at the root; a package never installs on its own.
    this.package.installTask.reset();
    this.package.installCiTask.reset();

    this.testTask.reset('tsx ../../node_modules/uvu/bin.js test \\.test\\.ts$');
    const lint = this.addTask('lint', { description: 'Biome and a type check of src and test' });
    lint.exec('biome lint src test');
    lint.exec(`tsc -p ${this.tsconfigDev.fileName}`);
    this.removeTask('watch');

    // The three Nx targets run the projen tasks above; caching and ordering live in nx.json (see nx.ts).
    // Nx would otherwise also turn every projen script in package.json into a target.
    this.package.addField('nx', { includedScripts: [] });
    const target = (task: string) => ({ command: `npx projen ${task}`, options: { cwd: '{projectRoot}' } });
    new JsonFile(this, 'project.json', {
      obj: {
        name: options.name,
        targets: {
          build: target('compile'),
          test: target('test'),
          lint: target('lint'),
          ...Object.fromEntries(
            Object.entries(options.extraTargets ?? {}).map(([name, t]) => [
              name,
              { command: t.command, options: { cwd: '{projectRoot}' }, dependsOn: ['build'], metadata: { description: t.description } },
            ]),
          ),
        },
      },
    });
  }
}
