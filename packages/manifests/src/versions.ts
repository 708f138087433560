/**
 * Exact versions of everything the platform runs. One home: the box builder, bootstrap's `doctor` and the
 * box's content manifest all read them from here. Images are fully qualified, so the list the box pre-pulls is
 * the list its container runtime shows.
 */

/** Confluent Platform 7.9 is the last line that supports both KRaft and ZooKeeper. */
export const CONFLUENT_PLATFORM = '7.9.1';

/**
 * The Airy Core release the platform runs: this tag of the `airyhq/airy` repository. Its Helm chart
 * (`infrastructure/helm-chart`) and component charts (`backend/components/* /helm`) are what the apps mirror.
 */
export const AIRY_CORE_RELEASE = { repository: 'airyhq/airy', tag: '0.54.0', registry: 'ghcr.io/airyhq' } as const;

/** Exact versions of the platform's external components. */
export const COMPONENT_VERSIONS = {
  confluentPlatform: CONFLUENT_PLATFORM,
  /** The Kafka release inside Confluent Platform 7.9. */
  kafka: '3.9.1',
  postgres: '16.4',
  istio: '1.24.3',
  /** The ngrok agent: a minor inside ngrok's support window ({@link NGROK_AGENT_SUPPORT}). */
  ngrokAgent: '3.39.11',
  kubernetes: 'v1.31.4',
  minikube: 'v1.35.0',
  /** crictl, which Minikube's `none` driver needs beside containerd. */
  crictl: 'v1.31.1',
  airyCore: AIRY_CORE_RELEASE.tag,
} as const;

/**
 * ngrok's support of the pinned agent's minor release, from the release chart of its Version Support Policy as it
 * read on `checked`. ngrok supports a minor for 14 months, then gives 2 months to upgrade; after that the minor's
 * agents can no longer connect (a free account's get `ERR_NGROK_121`, "too old"). 3.19, pinned before, reached its
 * end of life on 2026-02-17. A test keeps the pin's minor equal to this record and its end of life well ahead.
 */
export const NGROK_AGENT_SUPPORT = {
  minor: '3.39',
  released: '2026-04-27',
  activeUntil: '2027-04-28',
  endOfLife: '2027-06-28',
  checked: '2026-12-06',
  source: 'https://ngrok.com/docs/agent/version-support-policy',
} as const;

/** Container images, pinned to exact tags. */
export const IMAGES = {
  kafka: `docker.io/confluentinc/cp-kafka:${CONFLUENT_PLATFORM}`,
  zookeeper: `docker.io/confluentinc/cp-zookeeper:${CONFLUENT_PLATFORM}`,
  schemaRegistry: `docker.io/confluentinc/cp-schema-registry:${CONFLUENT_PLATFORM}`,
  postgres: `docker.io/library/postgres:${COMPONENT_VERSIONS.postgres}`,
  ngrok: `docker.io/ngrok/ngrok:${COMPONENT_VERSIONS.ngrokAgent}-alpine`,
  /**
   * The apps' init containers wait for Kafka with busybox's `nc`. The release names
   * `ghcr.io/airyhq/infrastructure/busybox:latest`, which is not reproducible; the official image at a fixed tag
   * has the same `sh` and `nc`.
   */
  busybox: 'docker.io/library/busybox:1.37.0',
} as const;

/** Where Istio's images come from; the IstioOperator names both, so the box pre-pulls exactly what it runs. */
export const ISTIO_IMAGES = {
  hub: 'docker.io/istio',
  tag: COMPONENT_VERSIONS.istio,
  /** istiod */
  pilot: `docker.io/istio/pilot:${COMPONENT_VERSIONS.istio}`,
  /** the ingress gateway */
  proxy: `docker.io/istio/proxyv2:${COMPONENT_VERSIONS.istio}`,
} as const;

/**
 * What Kubernetes itself runs on the box's node: kubeadm's images for the pinned Kubernetes (`kubeadm config
 * images list`) and Minikube's storage provisioner. The online box build checks them against the runtime's store.
 */
export const KUBERNETES_IMAGES: readonly string[] = [
  `registry.k8s.io/kube-apiserver:${COMPONENT_VERSIONS.kubernetes}`,
  `registry.k8s.io/kube-controller-manager:${COMPONENT_VERSIONS.kubernetes}`,
  `registry.k8s.io/kube-scheduler:${COMPONENT_VERSIONS.kubernetes}`,
  `registry.k8s.io/kube-proxy:${COMPONENT_VERSIONS.kubernetes}`,
  'registry.k8s.io/etcd:3.5.15-0',
  'registry.k8s.io/coredns/coredns:v1.11.3',
  'registry.k8s.io/pause:3.10',
  'gcr.io/k8s-minikube/storage-provisioner:v5',
];

/** A CPU architecture an image can be built for, as the box catalog names them. */
export type ImageArchitecture = 'amd64' | 'arm64';

/**
 * The architectures each image registry path is published for, as facts: the first rule whose prefix matches an
 * image decides. The Airy Core release's images (`ghcr.io/airyhq/*`) are amd64 only: its CI pushes them from
 * x86-64 runners with rules_docker, with no platform set. Confluent's, Istio's, Postgres', busybox's, ngrok's and
 * Kubernetes' own images are multi-arch manifests with arm64.
 */
export const IMAGE_ARCHITECTURES: readonly { readonly prefix: string; readonly architectures: readonly ImageArchitecture[] }[] = [
  { prefix: `${AIRY_CORE_RELEASE.registry}/`, architectures: ['amd64'] },
  { prefix: 'docker.io/confluentinc/', architectures: ['amd64', 'arm64'] },
  { prefix: 'docker.io/istio/', architectures: ['amd64', 'arm64'] },
  { prefix: 'docker.io/library/', architectures: ['amd64', 'arm64'] },
  { prefix: 'docker.io/ngrok/', architectures: ['amd64', 'arm64'] },
  { prefix: 'registry.k8s.io/', architectures: ['amd64', 'arm64'] },
  { prefix: 'gcr.io/k8s-minikube/', architectures: ['amd64', 'arm64'] },
];

/** The architectures an image is published for; an image of no known registry path is taken as amd64 only. */
export function imageArchitectures(image: string): readonly ImageArchitecture[] {
  return IMAGE_ARCHITECTURES.find((r) => image.startsWith(r.prefix))?.architectures ?? ['amd64'];
}
