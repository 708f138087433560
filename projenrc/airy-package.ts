import { JsonFile, javascript, TextFile, typescript } from 'projen';
import { RELEASE, SCOPE, TOOLING } from './versions';

/** What makes one Airy package different from the others. */
export interface AiryPackageOptions {
  /** Folder under `packages/` and the package name without the scope. */
  readonly name: string;
  readonly description: string;
  /** The executable's name; `bin/<name>.js` loads `lib/cli.js`. */
  readonly bin?: string;
  /**
   * Whether the bin turns on Node's compile cache before it loads the CLI, through the package's own
   * `lib/compile-cache.js` (`enableCompileCache()`), so a cold start does not compile its modules again.
   * @default false
   */
  readonly compileCache?: boolean;
  /** Search words for the registry, besides `airy`. */
  readonly keywords?: string[];
  /** Folders shipped besides lib/ and bin/, copied in from the workspace root before packing: `{ 'images': '../../images' }`. */
  readonly shipped?: Record<string, string>;
  /** Files of the package's own folder shipped too (globs), e.g. what its README shows: `['docs/*.png']`. */
  readonly files?: string[];
  /** Runtime dependencies, `name@version`. */
  readonly deps?: string[];
  /** Test and build dependencies, `name@version`. */
  readonly devDeps?: string[];
  /** Other Airy packages this one imports (workspace links). */
  readonly airyDeps?: AiryPackage[];
  /** Whether its runtime closure holds Kubernetes schema code (kubernetes-models), which needs Node 22. */
  readonly kubernetesSchemas?: boolean;
  /** Other Airy packages only its tests and generators use. */
  readonly airyDevDeps?: AiryPackage[];
  /**
   * Nx targets besides compile, test and lint: name → shell command run in the package folder, after `compile`.
   * `inputs`/`outputs` make it cacheable.
   */
  readonly extraTargets?: Record<string, ExtraTarget>;
}

/** One more Nx target of a package. */
export interface ExtraTarget {
  readonly command: string;
  readonly description: string;
  /** Nx inputs; with them the target is cached. */
  readonly inputs?: string[];
  readonly outputs?: string[];
}

/**
 * One Airy package: strict ESM TypeScript compiled by tsc to lib/, uvu tests in test/ run through tsx,
 * Biome lint plus a type check of the tests. Made the same way for every package.
 */
export class AiryPackage extends typescript.TypeScriptProject {
  public readonly packageName: string;
  /** Without Kubernetes schema code, so it declares the older Node (`RELEASE.node.light`). */
  public readonly light: boolean;

  constructor(root: typescript.TypeScriptProject, options: AiryPackageOptions) {
    const packageName = `${SCOPE}/${options.name}`;
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
      deps: [...(options.deps ?? []), ...(options.airyDeps ?? []).map((p) => `${p.packageName}@^${RELEASE.version}`)],
      devDeps: [
        `@types/node@${TOOLING.typesNode}`,
        ...(options.devDeps ?? []),
        ...(options.airyDevDeps ?? []).map((p) => `${p.packageName}@^${RELEASE.version}`),
      ],
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
      npmAccess: javascript.NpmAccess.PUBLIC,
      repository: RELEASE.repository,
      repositoryDirectory: `packages/${options.name}`,
      homepage: RELEASE.homepage,
      bugsUrl: RELEASE.bugs,
      keywords: ['airy', 'airy-core', ...(options.keywords ?? [])],
      entrypoint: 'lib/index.js',
      // The one bin is declared below; projen would also add every file in bin/ under its file name.
      autoDetectBin: false,
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
          // No source maps: the packages ship lib/ only, and a map without its sources helps nobody.
          inlineSourceMap: false,
          inlineSources: false,
          sourceMap: false,
          declarationMap: false,
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
    this.light = !options.kubernetesSchemas;

    this.package.addVersion(RELEASE.version);
    this.package.addField('type', 'module');
    this.package.addField('engines', { node: this.light ? RELEASE.node.light : RELEASE.node.withSchemas });
    // projen names `.projenrc.js` in a subproject's marker; the workspace is declared in the root's `.projenrc.ts`.
    this.package.file.addOverride('//', '~~ Generated by projen. To modify, edit .projenrc.ts at the repository root and run "npx projen".');
    const shipped = Object.keys(options.shipped ?? {});
    this.package.addField('files', [
      'lib/**/*.js',
      'lib/**/*.d.ts',
      '!lib/**/*.test.*',
      // The package's own changelog (changesets writes it), so a user reads what changed in what they install.
      'CHANGELOG.md',
      ...(options.bin ? ['bin/*.js'] : []),
      ...shipped.map((dir) => `${dir}/**`),
      ...(options.files ?? []),
    ]);
    // ESM only. `default` (not only `import`) lets Node answer require() with its own words: require(esm) works on
    // Node 20.19 and 22.12 and later, ERR_REQUIRE_ESM before.
    this.package.addField('exports', { '.': { types: './lib/index.d.ts', default: './lib/index.js' } });
    if (options.bin) {
      // A committed entry, so npm links the bin at `npm ci`, before anything is built (npm links a workspace bin
      // only if its file exists then). It says what to do when lib/ is not built yet.
      const entry = `bin/${options.bin}.js`;
      new TextFile(this, entry, {
        executable: true,
        lines: [
          '#!/usr/bin/env node',
          "// ~~ Generated by projen. To modify, edit .projenrc.ts and run \"npx projen\".",
          "import { existsSync } from 'node:fs';",
          "const cli = new URL('../lib/cli.js', import.meta.url);",
          'if (!existsSync(cli)) {',
          `  process.stderr.write('${options.bin}: not built yet: run npx nx run ${options.name}:compile (or npm run compile at the workspace root)\\n');`,
          '  process.exit(1);',
          '}',
          ...(options.compileCache
            ? [
                '// Compiled code kept between runs (Node 22.1+), in a folder of this user\'s own: lib/compile-cache.js.',
                "(await import(new URL('../lib/compile-cache.js', import.meta.url).href)).enableCompileCache();",
              ]
            : []),
          'await import(cli.href);',
        ],
      });
      this.package.addBin({ [options.bin]: entry });
    }
    // Shipped folders from the workspace root are copied in before packing (and ignored by git).
    for (const [dir, from] of Object.entries(options.shipped ?? {})) {
      this.gitignore.addPatterns(`/${dir}/`);
      this.compileTask.exec(`rm -rf ${dir} && cp -r ${from} ${dir}`);
    }
    // What tests write for people to look at (screenshots) stays out of git.
    this.gitignore.addPatterns('/test/output/');
    // Packing (npm pack, npm publish) always packs a fresh build.
    this.addTask('prepack', { description: 'Compile before npm packs the package', steps: [{ spawn: 'compile' }] });
    this.package.addField('publishConfig', { access: 'public' });

    // npm workspaces install everything once, at the root; a package never installs on its own.
    this.package.installTask.reset();
    this.package.installCiTask.reset();

    this.testTask.reset('tsx ../../node_modules/uvu/bin.js test \\.test\\.ts$');
    const lint = this.addTask('lint', { description: 'Biome and a type check of src and test' });
    lint.exec('biome lint src test');
    lint.exec(`tsc -p ${this.tsconfigDev.fileName}`);
    this.removeTask('watch');

    // The three Nx targets run the projen tasks above; caching and ordering live in nx.json (see nx.ts). `compile`
    // is TypeScript; box-builder's `build` builds the box.
    // Nx would otherwise also turn every projen script in package.json into a target.
    this.package.addField('nx', { includedScripts: [] });
    const target = (task: string) => ({ command: `npx projen ${task}`, options: { cwd: '{projectRoot}' } });
    new JsonFile(this, 'project.json', {
      obj: {
        name: options.name,
        targets: {
          compile: target('compile'),
          test: target('test'),
          lint: target('lint'),
          ...Object.fromEntries(
            Object.entries(options.extraTargets ?? {}).map(([name, t]) => [
              name,
              {
                command: t.command,
                options: { cwd: '{projectRoot}' },
                dependsOn: ['compile'],
                ...(t.inputs ? { inputs: t.inputs, outputs: t.outputs ?? [], cache: true } : {}),
                metadata: { description: t.description },
              },
            ]),
          ),
        },
      },
    });
  }
}
