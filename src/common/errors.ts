/**
 * A problem with what the user gave us (a file, a flag, a plan). The CLI prints its one-line message
 * and exits with code 2, without a stack trace. Anything else that escapes is a bug and keeps its stack.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string) {
    super(message);
  }

  /** `file: field: expected <form>, got <value>` — the one shape every bad-input message takes. */
  static field(file: string, field: string, expected: string, got?: unknown): InputError {
    const where = [file, field].filter(Boolean).join(': ');
    const tail = got === undefined ? '' : `, got ${describe(got)}`;
    return new InputError(`${where}: expected ${expected}${tail}`);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
