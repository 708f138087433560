/**
 * What the VirtualBox build reads before Packer imports its base OVA: the disk's unit in VBoxManage's import
 * listing, the OVA's published SHA-256, and the disk size in MiB the imported disk grows to. Pure.
 */

/**
 * A `--disk-size` in MiB: Packer's form, a number of MiB with an optional `M`, or `G`/`T` for GiB/TiB; undefined
 * when it is none of these. The VirtualBox build grows its imported disk to it (`modifymedium --resize` takes MiB). Pure.
 */
export function diskSizeMiB(size: string): number | undefined {
  const m = /^(\d{1,9})([MGT]?)$/i.exec(size.trim());
  if (!m) return undefined;
  const scale: Record<string, number> = { G: 1024, T: 1024 * 1024 };
  const n = Number(m[1]) * (scale[(m[2] ?? '').toUpperCase()] ?? 1);
  return n > 0 ? n : undefined;
}

/**
 * The unit of the one hard disk in `VBoxManage import OVA --dry-run`'s listing (VirtualBox prints each entry as
 * `NN: Hard disk image: source image=…, target path=…, controller=…`), or what is wrong: `--unit N --disk PATH` then
 * puts the imported disk at a path of the build's own. Vagrant reads the same lines for the same purpose
 * (its VirtualBox driver's `import`). Pure.
 */
export function ovaDiskUnit(dryRun: string): number | { problem: string } {
  const units = [...dryRun.matchAll(/^\s*(\d+): Hard disk image: source image=/gm)].map((m) => Number(m[1]));
  if (units.length === 1) return units[0] as number;
  return { problem: units.length === 0 ? 'VBoxManage lists no hard disk in it' : `it has ${units.length} hard disks; the build grows one` };
}

/** The SHA-256 that a SHA256SUMS list (`HEX  name` or `HEX *name` lines) gives `name`, if it gives one. Pure. */
export function sha256From(sums: string, name: string): string | undefined {
  for (const line of sums.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/i.exec(line.trim());
    if (m && m[2] === name) return (m[1] as string).toLowerCase();
  }
  return undefined;
}
