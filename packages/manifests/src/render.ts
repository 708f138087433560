/** The platform as YAML files: one per component, a `kustomization.yaml`, and the Istio install spec. Pure. */
import { stringify } from 'yaml';
import type { KubeObject } from './components/common.js';
import { GENERATED_HEADER, RENDERED_SECRETS } from './generated.js';
import { BOX_PLATFORM_OPTIONS, BOX_TUNNEL_OPTIONS, type Platform, platformObjects, renderPlatform } from './platform.js';

export { GENERATED_HEADER } from './generated.js';

const KUSTOMIZATION_FILE = 'kustomization.yaml';

/** The file the IstioOperator goes into; `istioctl install -f` reads it, kustomize does not. */
export const ISTIO_OPERATOR_FILE = 'istio-operator.yaml';

/** The gateway's cert-manager Certificate (in `istio-system`), applied with Istio, outside the kustomization. */
export const CERTIFICATE_FILE = 'gateway-certificate.yaml';

/** Several objects as one multi-document YAML text. */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/** File name → content, in apply order, `kustomization.yaml` and the IstioOperator last. Byte-identical for equal input. */
export function renderFiles(platform: Platform): Map<string, string> {
  const files = new Map<string, string>();
  const secrets = new Map<string, { text: string; secret: boolean }>();
  for (const c of platform.components) {
    const text = `${GENERATED_HEADER}\n${toYaml(c.objects)}`;
    files.set(c.file, text);
    secrets.set(c.file, { text, secret: c.objects.some((o) => o.kind === 'Secret') });
  }
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: platform.components.map((c) => c.file),
  };
  files.set(KUSTOMIZATION_FILE, `${GENERATED_HEADER}\n${toYaml([kustomization])}`);
  files.set(ISTIO_OPERATOR_FILE, `${GENERATED_HEADER}\n${toYaml([platform.istioOperator])}`);
  if (platform.certificate) files.set(CERTIFICATE_FILE, `${GENERATED_HEADER}\n${toYaml([platform.certificate])}`);
  // The kustomization, the IstioOperator and the Certificate are never Secrets.
  for (const name of [KUSTOMIZATION_FILE, ISTIO_OPERATOR_FILE, CERTIFICATE_FILE]) {
    const text = files.get(name);
    if (text !== undefined) secrets.set(name, { text, secret: false });
  }
  RENDERED_SECRETS.set(files, secrets);
  return files;
}

/** Every cluster object in apply order as one stream, for `kubectl apply -f -` (no kustomization, no IstioOperator). */
export function renderStream(platform: Platform): string {
  return `${GENERATED_HEADER}\n${toYaml(platformObjects(platform))}`;
}

/** The box's optional file: the in-cluster ngrok agent, outside the kustomization, applied once its Secret exists. */
export const BOX_TUNNEL_FILE = 'optional-ngrok.yaml';

/** What the box bakes in (and `infrastructure/deployments/` holds): the box platform's files and its optional tunnel. */
export function boxFiles(): Map<string, string> {
  const files = renderFiles(renderPlatform(BOX_PLATFORM_OPTIONS));
  const tunnel = renderPlatform(BOX_TUNNEL_OPTIONS).components.find((c) => c.component === 'ngrok');
  if (tunnel) files.set(BOX_TUNNEL_FILE, `${GENERATED_HEADER}\n${toYaml(tunnel.objects)}`);
  return files;
}
