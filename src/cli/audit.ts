/**
 * `npm run audit -- <command>`: the audit chain, against the database the server uses (DATABASE_URL, or the
 * embedded one in DATA_DIR — which only one process may open at a time).
 *
 *   verify [--json]   walk the hash chain; exit 0 when whole, 1 naming the first row altered, deleted or reordered
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { checkAuditChain } from '../audit/verify.ts';
import { openStore } from '../store/db.ts';
import { DataDirLocked } from '../store/lock.ts';

const USAGE = `usage: npm run audit -- <command>
  verify [--json]   walk the audit hash chain and name the first row altered, deleted or reordered`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  if (command !== 'verify') {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  const store = await openStore(loadConfig());
  try {
    // Read only: no migration runs, so checking a chain never changes the database it checks.
    const report = await checkAuditChain(store.db);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else if (report.ok) {
      const head = report.head ? `head seq ${report.head.seq}, hash ${report.head.hash}` : 'the chain is empty';
      process.stdout.write(`audit chain whole: ${report.checked} rows checked; ${head}\n`);
    } else {
      process.stdout.write(`audit chain BROKEN (${report.broken!.problem}) at seq ${report.broken!.seq}: ${report.broken!.message}\n`);
      process.stdout.write(`${report.checked} rows before it are whole.\n`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    const message = err instanceof ConfigError || err instanceof DataDirLocked ? err.message : `failed: ${err.message}`;
    process.stderr.write(`audit: ${message}\n`);
    process.exit(2);
  },
);
