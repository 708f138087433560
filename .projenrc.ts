import { JsonFile, javascript, typescript } from 'projen';
import { AiryPackage } from './projenrc/airy-package';
import { nxWorkspace } from './projenrc/nx';
import { RELEASE, SCOPE, TOOLING } from './projenrc/versions';

// The workspace root: holds the shared dev tooling and runs Nx; it compiles nothing itself.
const root = new typescript.TypeScriptProject({
  name: 'airy-core-infrastructure',
  description: 'Infrastructure toolkit of the Airy Core Platform',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  projenrcTsOptions: { runner: typescript.TypeScriptRunner.tsx() },
  typescriptVersion: TOOLING.typescript,
  devDeps: [
    `constructs@${TOOLING.constructs}`,
    `tsx@${TOOLING.tsx}`,
    `uvu@${TOOLING.uvu}`,
    `zx@${TOOLING.zx}`,
    `nx@${TOOLING.nx}`,
    `@types/node@${TOOLING.typesNode}`,
    `verdaccio@${TOOLING.verdaccio}`,
    `semver@${TOOLING.semver}`,
    `@types/semver@${TOOLING.typesSemver}`,
    `@action-validator/cli@${TOOLING.actionValidator}`,
    `@action-validator/core@${TOOLING.actionValidator}`,
    `@microsoft/api-extractor@${TOOLING.apiExtractor}`,
    `@changesets/cli@${TOOLING.changesets}`,
  ],
  sampleCode: false,
  disableTsconfig: true,
  jest: false,
  eslint: false,
  biome: true,
  biomeOptions: {
    version: TOOLING.biome,
    formatter: false,
    biomeConfig: { files: { includes: ['**', '!**/lib', '!**/node_modules', '!**/.nx'] } },
  },
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  package: false,
  licensed: true,
  license: 'Apache-2.0',
  gitignore: ['.nx/cache', '.nx/workspace-data', '*.tsbuildinfo', '/out/', '/tools/control-plane/bin/'],
});
root.package.addField('private', true);
// ESM throughout, so repository scripts and shared test helpers load the same modules as the packages.
root.package.addField('type', 'module');
root.package.addField('workspaces', ['packages/*']);
root.package.addField('engines', { node: TOOLING.node });
// On an older Node npm says so once, naming the workspace's Node (the README's commands bring Node 22); projen and
// the Node 20 test run still work there.
root.package.file.addOverride('devEngines.runtime', { name: 'node', version: TOOLING.node, onFail: 'warn' });
// Install scripts, reviewed (npm runs only these): esbuild's checks that its platform binary came with its optional
// dependency; Nx's only updates the Nx Cloud client, which this workspace does not use.
root.package.addField('allowScripts', { esbuild: true, nx: false });
// Verdaccio 6.8 (the release test's registry on loopback) runs on Node 20 only with this node-fetch.
root.package.addField('overrides', { 'node-fetch': TOOLING.nodeFetch });
nxWorkspace(root);

// What every CLI shares (exit codes, errors, program, redaction, progress, locks, atomic writes): a leaf.
const cliKit = new AiryPackage(root, {
  name: 'cli-kit',
  description: 'What every Airy Core CLI shares: exit codes, one-line errors, redaction, progress, locks, atomic writes',
  keywords: ['cli'],
  deps: [
    `commander@${TOOLING.commander}`,
    `cli-progress@${TOOLING.cliProgress}`,
    `@bomb.sh/tab@${TOOLING.tab}`,
    `fastest-levenshtein@${TOOLING.levenshtein}`,
    // The state files' checks (state-file.ts), as manifests' options: one schema library.
    `valibot@${TOOLING.valibot}`,
  ],
  devDeps: [`@types/cli-progress@${TOOLING.typesCliProgress}`],
});
const manifests = new AiryPackage(root, {
  name: 'manifests',
  description: 'Typed, validated Kubernetes manifests of the Airy Core Platform, with local and production profiles',
  bin: 'airy-manifests',
  // render plus validate, two cold runs, must stay under 1 s (tools/bench/manifests.ts).
  compileCache: true,
  keywords: ['kubernetes', 'kafka', 'manifests', 'istio'],
  kubernetesSchemas: true,
  deps: [
    `commander@${TOOLING.commander}`,
    `yaml@${TOOLING.yaml}`,
    `kubernetes-models@${TOOLING.kubernetesModels}`,
    `@kubernetes-models/istio@${TOOLING.kubernetesModelsIstio}`,
    `valibot@${TOOLING.valibot}`,
  ],
  airyDeps: [cliKit],
});
// The box catalog format: one home, written by box-builder and read by bootstrap. It depends on nothing heavy,
// so bootstrap's npx install never pulls the S3 SDK or Packer code.
const boxCatalog = new AiryPackage(root, {
  name: 'box-catalog',
  description: 'The Airy Core box catalog (Vagrant metadata.json, channels) and the box content manifest',
  keywords: ['vagrant', 'catalog'],
  deps: [`semver@${TOOLING.semver}`],
  devDeps: [`@types/semver@${TOOLING.typesSemver}`],
});
const boxBuilder = new AiryPackage(root, {
  name: 'box-builder',
  description: 'Builds the Airy Core Vagrant box with Packer and publishes it to S3 as a versioned catalog',
  bin: 'airy-box',
  keywords: ['vagrant', 'packer', 's3', 'box'],
  kubernetesSchemas: true,
  // The Packer templates and provisioning scripts travel with the package.
  shipped: { images: '../../images' },
  deps: [
    `commander@${TOOLING.commander}`,
    `@aws-sdk/client-s3@${TOOLING.awsSdk}`,
    `zx@${TOOLING.zx}`,
    `@tufjs/models@${TOOLING.tufModels}`,
  ],
  devDeps: [`s3rver@${TOOLING.s3rver}`],
  airyDeps: [cliKit, manifests, boxCatalog],
  // `build` builds the Vagrant box, as the design card says (minutes; cached on the templates, the platform and the
  // options, so an unchanged box is not built again). `compile` is the TypeScript, as in every package.
  extraTargets: {
    build: {
      command: `node bin/airy-box.js build --box-version ${RELEASE.version}`,
      description: 'airy-box build: the local Vagrant box with Packer, into packages/box-builder/dist (options after --)',
      inputs: ['production', '^production', '{workspaceRoot}/images/**/*'],
      outputs: ['{projectRoot}/dist'],
    },
    publish: { command: 'node bin/airy-box.js publish', description: 'airy-box publish (pass --to=s3://bucket/prefix)' },
    e2e: { command: 'bash ../../tools/e2e/ci.sh', description: 'end to end: base image, real box build, publish, download, box add, contents' },
  },
});
new AiryPackage(root, {
  name: 'bootstrap',
  description: 'npx @airy/bootstrap: from a clean laptop to a running, verified Airy Core',
  bin: 'airy-bootstrap',
  keywords: ['vagrant', 'minikube', 'bootstrap'],
  deps: [
    `commander@${TOOLING.commander}`,
    `zx@${TOOLING.zx}`,
    `tuf-js@${TOOLING.tufJs}`,
    `@tufjs/models@${TOOLING.tufModels}`,
    `valibot@${TOOLING.valibot}`,
  ],
  // The platform's facts are compiled in (src/box-facts.ts, generated from @airy/manifests), so a laptop install
  // carries no Kubernetes code: manifests is only for the tests and the generator.
  airyDeps: [cliKit, boxCatalog],
  // box-builder only for the tests: they publish real signed catalogs to verify.
  airyDevDeps: [manifests, boxBuilder],
});
new AiryPackage(root, {
  name: 'ngrok-tunnel',
  description: 'A supervised ngrok tunnel that brings webhooks to a local Airy Core',
  bin: 'airy-tunnel',
  keywords: ['ngrok', 'webhooks', 'tunnel'],
  // The README shows the inspector's screenshot: the package carries it, so the README is whole wherever it is read.
  files: ['docs/*.png'],
  deps: [`commander@${TOOLING.commander}`, `@ngrok/ngrok@${TOOLING.ngrok}`, `yaml@${TOOLING.yaml}`, `zx@${TOOLING.zx}`, `valibot@${TOOLING.valibot}`],
  // The inspector's browser test drives Debian's chromium (never a downloaded browser).
  devDeps: [`playwright-core@${TOOLING.playwrightCore}`],
  // It runs on the laptop like bootstrap: the webhook model is cli-kit's, so no Kubernetes code comes with it;
  // manifests is only for a test that validates the ConfigMap it writes.
  airyDeps: [cliKit],
  airyDevDeps: [manifests],
});

// The root's own tasks drive Nx; the test task prints the `N passed, N failed` summary.
root.compileTask.reset('nx run-many -t compile');
root.testTask.reset('tsx tools/test.ts');
// The scripts under tools/ (tests' helpers, benchmarks, e2e) run through tsx, which does not type-check: tsc does.
new JsonFile(root, 'tools/tsconfig.json', {
  obj: {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['**/*.ts'],
  },
});
const lint = root.addTask('lint', { description: 'Lint the workspace scripts, then every package' });
lint.exec('biome lint .projenrc.ts projenrc tools');
// The release workflow runs only in the repository's real home: here it is checked against GitHub's schema.
lint.exec('action-validator .github/workflows/release.yml');
// The CHANGELOGs come from the change entries (changesets), never from commit subjects or a hand edit.
lint.exec('tsx tools/release/check.ts');
lint.exec('shellcheck -x .ci/run tools/*.sh tools/e2e/*.sh infrastructure/scripts/*.sh images/scripts/*.sh');
lint.exec('nx run-many -t lint');
// tools/ imports the packages by name: their types exist once they are compiled (cached by Nx).
lint.exec('nx run-many -t compile');
lint.exec('tsc -p tools/tsconfig.json');
root.removeTask('watch');
root.addTask('bench:manifests', {
  description: 'Benchmark render + validate of the production platform against kubectl kustomize',
  exec: 'nx run manifests:compile && tsx tools/bench/manifests.ts',
});
root.addTask('bench:upload', {
  description: 'Benchmark airy-box publish against aws s3 cp on a local s3rver, and its peak RSS',
  exec: 'nx run box-builder:compile && tsx tools/bench/upload.ts',
});
root.addTask('bench:download', {
  description: 'Benchmark the box downloader against curl and aws s3 cp, on loopback and an emulated WAN link',
  exec: 'nx run bootstrap:compile && tsx tools/bench/download.ts',
});
root.addTask('bench:delta', {
  description: 'Benchmark a delta upgrade (2%, 5%, 20%, 100% changed) against a whole download, zsync and casync on an emulated link',
  exec: 'nx run-many -t compile -p bootstrap box-builder && tsx tools/bench/delta.ts',
});
root.addTask('bench:verify', {
  description: "Benchmark what catalog verification (TUF) adds to a warm-cache download's start, against the unverified run",
  exec: 'nx run-many -t compile -p bootstrap box-builder && tsx tools/bench/verify.ts',
});
root.addTask('bench:resume', {
  description: 'Benchmark what a resume costs (killed at 40% with 16 connections) against aria2c -c',
  exec: 'nx run bootstrap:compile && tsx tools/bench/resume.ts',
});
root.addTask('bench:tunnel', {
  description: "Benchmark the tunnel's proxy under load (airy-tunnel start --no-ngrok) against a minimal Node reverse proxy",
  exec: 'nx run ngrok-tunnel:compile && tsx tools/bench/tunnel.ts',
});
root.addTask('box-facts', {
  description: "Write bootstrap's compiled-in box facts from @airy/manifests (a test fails when stale)",
  exec: 'nx run manifests:compile && tsx tools/box-facts.ts',
});
root.addTask('public-root', {
  description: "Write bootstrap's compiled-in public catalog root from infrastructure/catalog/root.json (a test fails when stale)",
  exec: 'tsx tools/public-root.ts',
});
root.addTask('api', {
  description: "Write every package's public API report (packages/X/api/X.api.md) after an export change you meant",
  exec: 'nx run-many -t compile && tsx tools/testing/api-report.ts --update',
});
root.addTask('docs:exit-codes', {
  description: "Write every README's exit-code and reason tables from @airy/cli-kit's registries",
  exec: 'nx run cli-kit:compile && tsx tools/exit-codes.ts',
});
root.addTask('bench:footprint', {
  description: 'Benchmark the install footprint of npx @airy/bootstrap (packages, bytes, cold --help)',
  exec: 'nx run-many -t compile && tsx tools/bench/footprint.ts',
});
root.addTask('render-deployments', {
  description: 'Render the local profile into infrastructure/deployments (checked in; a test fails when stale)',
  exec: 'nx run manifests:compile && tsx tools/render-deployments.ts',
});
// Releases with changesets: each change brings a written entry (.changeset/*.md, `npx changeset`); the six packages
// are one fixed group, so they share one version and every package's CHANGELOG gets each release.
new JsonFile(root, '.changeset/config.json', {
  obj: {
    changelog: '@changesets/cli/changelog',
    commit: false,
    fixed: [[`${SCOPE}/*`]],
    linked: [],
    access: 'public',
    baseBranch: 'main',
    updateInternalDependencies: 'patch',
    ignore: [],
  },
});
root.addTask('release:version', {
  description: 'The next version from the pending change entries (changeset version), set in projenrc/versions.ts, then the CHANGELOGs',
  exec: 'changeset version && tsx tools/release/version.ts',
});
root.addTask('release:check', {
  description: 'The CHANGELOGs come from the change entries: one version everywhere, each package listed (--tag vX.Y.Z: nothing pending)',
  exec: 'tsx tools/release/check.ts',
  receiveArgs: true,
});
root.addTask('release:dry-run', {
  description: 'npm publish --dry-run of every package: access, version and the real file list; publishes nothing',
  exec: 'nx run-many -t compile && tsx tools/release/release.ts dry-run',
});
root.addTask('release:test', {
  description: 'Publish every package to a Verdaccio registry on loopback and use them as a user would, on Node 22',
  exec: 'nx run-many -t compile && bash tools/with-node.sh 22 tsx tools/release/registry-test.ts',
});
root.addTask('test:fresh-clone', {
  description: "Clone the repository into an empty folder and run the README's main command with an empty npm cache",
  exec: 'tsx tools/release/fresh-clone-test.ts',
});
// The light packages (bootstrap and what it pulls in) declare an older Node than the workspace runs on.
const light = root.subprojects.filter((p) => p instanceof AiryPackage && p.light).map((p) => p.name.replace(`${SCOPE}/`, ''));
root.addTask('test:node20', {
  description: `The tests of the packages that declare node ${RELEASE.node.light} (${light.join(', ')}) again on Node 20`,
  // Without npm or Nx (they warn about the workspace's engines on Node 20): uvu in each package's folder.
  exec: `bash tools/with-node.sh 20 tsx tools/test.ts --direct --projects ${light.join(',')}`,
});
root.addTask('test:cluster', {
  description: "The platform against Kubernetes' own control plane (tools/control-plane): the box's provisioning, readiness, production",
  exec: 'nx run-many -t compile -p manifests bootstrap && bash tools/control-plane/build.sh && tsx tools/control-plane/run-tests.ts',
});
// The root is no package of its own: it only holds the workspace.
for (const field of ['main', 'types', 'publishConfig']) root.package.file.addDeletionOverride(field);

root.synth();
