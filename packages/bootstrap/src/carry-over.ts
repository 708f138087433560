/**
 * What an upgrade keeps: the platform's database. The VM is recreated from the new box, so PostgreSQL is dumped
 * from the old VM to the instance folder first and restored into the new one once the platform is ready. The dump
 * holds the data only, no roles: the new VM makes its own database password at first boot, and restoring the old
 * role would break it. Kafka's messages are not kept (the topics are made again by the platform).
 */
import { join } from 'node:path';
import { BOX_FACTS } from './box-facts.js';

/** The commands of the carry-over: `inside` runs in the PostgreSQL container, `inVm` wraps it for `vagrant ssh`. */
export interface CarryOverCommands {
  readonly dump: { readonly inside: string; readonly inVm: string };
  readonly restore: { readonly inside: string; readonly inVm: string };
}

/**
 * The dump and restore of the platform's database. Both connect over the container's own socket as the platform's
 * user (from the container's environment, so no password is ever on a command line). The restore drops what the
 * new platform already made (`--clean --if-exists`) and runs as one transaction that stops at the first error, so
 * a failed restore leaves the new database as it was.
 */
export function carryOverCommands(namespace: string = BOX_FACTS.namespace, database: string = BOX_FACTS.postgres.database): CarryOverCommands {
  const user = `"$${BOX_FACTS.postgres.userKey}"`;
  const dump = `pg_dump -U ${user} -d ${database} --clean --if-exists --no-owner --no-privileges`;
  const restore = `psql -U ${user} -d ${database} -v ON_ERROR_STOP=1 --single-transaction -q -o /dev/null`;
  const pod = `${BOX_FACTS.postgres.component}-0`;
  return {
    dump: { inside: dump, inVm: `kubectl -n ${namespace} exec ${pod} -- sh -c '${dump}'` },
    restore: { inside: restore, inVm: `kubectl -n ${namespace} exec -i ${pod} -- sh -c '${restore}'` },
  };
}

/** The backup file of an instance's database, by the version it came from. */
export function backupFile(dir: string, version: string): string {
  return join(dir, 'backups', `postgres-${version}.sql`);
}
