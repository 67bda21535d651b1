/** The benchmarks' command line: `--json` for machines, `--filter TEXT` to run some cases only. */

export interface BenchArgs {
  json: boolean;
  /** Only cases whose name contains this text (case-insensitive); targets needing others say so. */
  filter: string | null;
}

export function parseBenchArgs(argv: readonly string[], usage: string): BenchArgs {
  const args: BenchArgs = { json: false, filter: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--filter' && i + 1 < argv.length) args.filter = argv[++i].toLowerCase();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${JSON.stringify(a)}\n${usage}\n`);
      process.exit(2);
    }
  }
  return args;
}

/** Progress lines go to stderr, so stdout stays a clean table or JSON document. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
