/**
 * Names as the API server and a registry take them: DNS labels and subdomains (for objects, namespaces and
 * Services), and whether an image reference is pinned. One home for the options' checks and validate's. Pure.
 */

const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** An RFC 1123 label, at most 63: a Namespace's or Secret's name. A digit may come first. */
export const isDnsLabel = (s: string): boolean => s.length <= 63 && LABEL_1123.test(s);

/** An RFC 1035 label, at most 63: a Service's name, so it must start with a letter. */
export const isDns1035Label = (s: string): boolean => s.length <= 63 && LABEL_1035.test(s);

/** An RFC 1123 subdomain, at most 253: the name of most kinds (a StorageClass, a ConfigMap…). */
export const isDnsSubdomain = (s: string): boolean => s.length <= 253 && SUBDOMAIN_1123.test(s);

/**
 * Why an image reference is not pinned: it has no tag (nor digest) or its tag is `latest`; undefined when it is
 * pinned (a digest, or any other tag). The tag is after the last `:` of the last path part (a registry's port is not).
 */
export function unpinnedImage(image: string): 'no tag' | 'latest' | undefined {
  if (image.includes('@')) return undefined;
  const tag = image.slice(image.lastIndexOf('/') + 1).split(':')[1];
  if (!tag) return 'no tag';
  return tag === 'latest' ? 'latest' : undefined;
}
