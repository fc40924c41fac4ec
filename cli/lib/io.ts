/** How a command reports: tables for people, exactly one JSON document with --json. */
export interface CliIo {
  readonly json: boolean;
  readonly color: boolean;
  /** The command's result: printed as JSON with --json, else by `human`. */
  result(document: unknown, human: (document: unknown) => string): void;
  /** Progress and logs: always stderr, never mixed with the JSON document. */
  info(message: string): void;
}

export function createIo(options: { json: boolean }): CliIo {
  const color = !options.json && process.stdout.isTTY === true && !process.env.NO_COLOR;
  return {
    json: options.json,
    color,
    result(document, human) {
      process.stdout.write(options.json ? `${JSON.stringify(document, null, 2)}\n` : `${human(document)}\n`);
    },
    info(message) {
      process.stderr.write(`${message}\n`);
    },
  };
}

/** Bad input or usage: exit 2 with a one-line reason. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation ran and reports a failure: exit 1. */
export class OperationFailed extends Error {
  override readonly name = 'OperationFailed';
}

const CODES = { reset: '\u001b[0m', bold: '\u001b[1m', dim: '\u001b[2m', red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', cyan: '\u001b[36m' } as const;

export function paint(io: Pick<CliIo, 'color'>, style: keyof typeof CODES, text: string): string {
  return io.color ? `${CODES[style]}${text}${CODES.reset}` : text;
}

/** A plain text table: one header row, columns padded to the widest cell. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells.map((row) => row.map((cell, col) => (cell ?? '').padEnd(widths[col] ?? 0)).join('  ').trimEnd()).join('\n');
}
