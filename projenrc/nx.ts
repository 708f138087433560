import { JsonFile, type Project } from 'projen';

/**
 * Writes nx.json: `compile` (TypeScript) waits for the compiles of dependencies, `test` for its own compile,
 * and compile, test and lint are cached on exactly what they read.
 */
export function nxWorkspace(root: Project): JsonFile {
  return new JsonFile(root, 'nx.json', {
    obj: {
      $schema: './node_modules/nx/schemas/nx-schema.json',
      defaultBase: 'main',
      namedInputs: {
        // Everything git tracks in the package, plus the workspace files that change any build.
        default: ['{projectRoot}/**/*', 'sharedGlobals'],
        sharedGlobals: ['{workspaceRoot}/package-lock.json'],
        production: ['default', '!{projectRoot}/test/**/*', '!{projectRoot}/tsconfig.dev.json'],
      },
      targetDefaults: {
        compile: {
          dependsOn: ['^compile'],
          inputs: ['production', '^production', '{workspaceRoot}/images/**/*'],
          outputs: ['{projectRoot}/lib', '{projectRoot}/images'],
          cache: true,
        },
        test: {
          dependsOn: ['compile'],
          inputs: [
            'default',
            '^production',
            '{workspaceRoot}/tools/testing/**/*',
            '{workspaceRoot}/tools/*.ts',
            '{workspaceRoot}/images/**/*',
            '{workspaceRoot}/infrastructure/**/*',
            // The exit-code test holds every README's table against the registry.
            '{workspaceRoot}/README.md',
            '{workspaceRoot}/packages/*/README.md',
          ],
          cache: true,
        },
        lint: {
          // The test type check reads the declarations of the packages it imports (tools/ may import the package
          // itself by name, so its own compile too).
          dependsOn: ['^compile', 'compile'],
          inputs: ['default', '{workspaceRoot}/biome.jsonc'],
          cache: true,
        },
      },
    },
  });
}
