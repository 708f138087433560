/**
 * The whole order to apply a rendered folder to a cluster of the user's own (kind, minikube, a cloud cluster):
 * `kubectl apply -k` alone fails without Istio's CRDs, and the ngrok agent waits for its Secret. Pure.
 */
import { shellWord } from '@airy/cli-kit';
import type { Platform } from './platform.js';
import { CERTIFICATE_FILE, ISTIO_OPERATOR_FILE } from './render.js';
import { COMPONENT_VERSIONS } from './versions.js';

/** One step: the shell command, and why it comes where it does. */
export interface ApplyStep {
  readonly command: string;
  readonly why: string;
}

/** The steps, in order, for the folder `dir` that `platform` was rendered into. */
export function applySteps(platform: Platform, dir: string): ApplyStep[] {
  const { namespace, postgres, ngrok, ingress } = platform.config;
  // The names below are validated (DNS-1123); the folder is the user's and may hold anything.
  const at = (file?: string) => shellWord(file ? `${dir}/${file}` : dir);
  const steps: ApplyStep[] = [
    {
      command: `istioctl install -y -f ${at(ISTIO_OPERATOR_FILE)}`,
      why: `Istio ${COMPONENT_VERSIONS.istio} first: the Gateway and VirtualServices are its resources`,
    },
    { command: `kubectl create namespace ${namespace}`, why: 'the Secrets below live in it' },
  ];
  if (postgres.secret.password === undefined) {
    steps.push({
      command: `kubectl -n ${namespace} create secret generic ${postgres.secret.name} --from-literal=POSTGRES_USER=${postgres.user} --from-literal=POSTGRES_PASSWORD="$(openssl rand -base64 24)"`,
      why: 'the database credentials you keep (the render references them)',
    });
  }
  if (ngrok.enabled) {
    steps.push({
      command: `kubectl -n ${namespace} create secret generic ${ngrok.authtokenSecret} --from-literal=authtoken="$NGROK_AUTHTOKEN"`,
      why: 'the ngrok agent waits for its token (or render with --no-ngrok)',
    });
  }
  if (ingress.tls?.certManager) {
    steps.push({ command: `kubectl apply -f ${at(CERTIFICATE_FILE)}`, why: `cert-manager issues the certificate into istio-system/${ingress.tls.secret}` });
  } else if (ingress.tls) {
    steps.push({
      command: `kubectl -n istio-system create secret tls ${ingress.tls.secret} --cert=tls.crt --key=tls.key`,
      why: 'the certificate, where Istio reads it',
    });
  }
  steps.push(
    { command: `kubectl apply -k ${at()}`, why: 'the platform, in dependency order' },
    { command: `kubectl -n ${namespace} wait --for=condition=Available deployment --all --timeout=15m`, why: 'the rollout' },
  );
  return steps;
}
