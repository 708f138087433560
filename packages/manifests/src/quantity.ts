/** Kubernetes resource quantities as numbers: CPU in millicores, memory in bytes. */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** `"250m"` → 250, `"2"` → 2000. */
export function parseCpu(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity);
  if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
  const value = Number(match[1]);
  return Math.round(match[2] === 'm' ? value : value * 1000);
}

/** `"512Mi"` → 536870912, `"1G"` → 1e9. */
export function parseMemory(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const unit = match[2];
  const factor = unit ? (BINARY[unit] ?? DECIMAL[unit] ?? 1) : 1;
  return Math.round(Number(match[1]) * factor);
}

/** Millicores as a quantity string: 1500 → "1500m", 2000 → "2". */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** Bytes as a binary quantity string, in the largest unit that divides it exactly. */
export function formatMemory(bytes: number): string {
  for (const unit of ['Ti', 'Gi', 'Mi', 'Ki']) {
    const factor = BINARY[unit] as number;
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
