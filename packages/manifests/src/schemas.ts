/**
 * Offline OpenAPI schema checks of any Kubernetes or Istio object, through kubernetes-models and
 * @kubernetes-models/istio. Each kind's validator is loaded on first use, so checking a few kinds stays fast.
 */

/** One schema violation, at a JSON path inside the object. */
export interface SchemaError {
  readonly path: string;
  readonly message: string;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** A checker for one apiVersion/kind, or `undefined` when no schema is known for it. */
export type SchemaCheck = ((object: unknown) => SchemaError[]) | undefined;

const GROUP = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const VERSION = /^v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** The module that holds a kind's model, or `undefined` for names that cannot be one. */
function modulePath(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  if (!version || !VERSION.test(version) || !KIND.test(kind) || (group && !GROUP.test(group))) return undefined;
  if (group.endsWith('.istio.io')) return `@kubernetes-models/istio/${group}/${version}/${kind}`;
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

/** `/spec/template/spec/containers/0/image` → `spec.template.spec.containers[0].image`. */
export function jsonPath(instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  let path = '';
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : path ? `.${part}` : part;
  return path || '$';
}

interface AjvError {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

const cache = new Map<string, Promise<SchemaCheck>>();

/** Loads the schema check of `apiVersion`/`kind`; resolves to `undefined` when none is known. */
export function schemaCheck(apiVersion: string, kind: string): Promise<SchemaCheck> {
  const key = `${apiVersion}/${kind}`;
  let check = cache.get(key);
  if (!check) {
    check = loadCheck(apiVersion, kind);
    cache.set(key, check);
  }
  return check;
}

async function loadCheck(apiVersion: string, kind: string): Promise<SchemaCheck> {
  const path = modulePath(apiVersion, kind);
  if (!path) return undefined;
  let Model: ModelClass | undefined;
  try {
    const module = (await import(path)) as Record<string, ModelClass>;
    Model = module[kind];
  } catch {
    return undefined;
  }
  if (!Model) return undefined;
  const ModelClass = Model;
  return (object: unknown) => {
    try {
      const { apiVersion: _a, kind: _k, ...data } = object as Record<string, unknown>;
      new ModelClass(data).validate();
      return [];
    } catch (error) {
      const errors = (error as { errors?: AjvError[] }).errors;
      if (!errors) return [{ path: '$', message: (error as Error).message }];
      return errors.map((e) => ({
        path: jsonPath(e.instancePath ?? ''),
        message: e.params?.additionalProperty
          ? `${e.message}: ${String(e.params.additionalProperty)}`
          : e.params?.allowedValues
            ? `${e.message}: ${(e.params.allowedValues as unknown[]).join(', ')}`
            : (e.message ?? 'invalid'),
      }));
    }
  };
}
