/**
 * JSON Schema (draft 2020-12) validation of hardware profiles with ajv. The schemas live next to the profiles
 * (hardware-profiles/schema/); a custom `dimension` keyword checks that quantity strings carry the right unit.
 * Failures become one InputError line: "<file>: <field>: expected <form>, got <value>".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { InputError } from '../common/errors.js';
import { type Dimension, DIMENSIONS, describeDimension, parseQuantity } from './units.js';
import { profilesRoot } from './profile-paths.js';

export type ProfileKind = 'gpu' | 'cpu' | 'nic' | 'ib-switch' | 'pcie-switch' | 'server' | 'cluster' | 'nccl';
export const PROFILE_KINDS: ProfileKind[] = ['gpu', 'cpu', 'nic', 'ib-switch', 'pcie-switch', 'server', 'cluster', 'nccl'];

const SCHEMA_BASE = 'https://neox-sim.dev/schema/';

let ajv: Ajv2020 | undefined;
const validators = new Map<ProfileKind, ValidateFunction>();

function instance(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
  ajv.addKeyword({
    keyword: 'dimension',
    type: 'string',
    schemaType: 'string',
    metaSchema: { enum: Object.keys(DIMENSIONS) },
    error: { message: (cxt) => `must be ${describeDimension(cxt.schema as Dimension)}` },
    validate: (dim: Dimension, data: string) => parseQuantity(data, dim) !== null,
  });
  const dir = join(profilesRoot(), 'schema');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort()) {
    ajv.addSchema(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  }
  return ajv;
}

function validator(kind: ProfileKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    v = instance().getSchema(`${SCHEMA_BASE}${kind}.schema.json`);
    if (!v) throw new Error(`no schema for profile kind ${kind}`);
    validators.set(kind, v);
  }
  return v;
}

/** Validates a parsed profile of a known kind; throws InputError naming the file and the first bad field. */
export function validateProfile(kind: ProfileKind, data: unknown, file: string): void {
  const validate = validator(kind);
  if (validate(data)) return;
  // An unmet if/then also reports the failing `then` keyword itself; the nested error says more.
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
  const first = pickError(errors);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  const err = describeError(first, data, file);
  throw new InputError(err.message + more);
}

/** The kind of a parsed profile, from its "kind" field. */
export function profileKind(data: unknown, file: string): ProfileKind {
  const kind = (data as { kind?: unknown } | null)?.kind;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw InputError.field(file, '/', 'a JSON object (a hardware profile)', data);
  }
  if (!PROFILE_KINDS.includes(kind as ProfileKind)) {
    throw InputError.field(file, '/kind', `one of ${PROFILE_KINDS.map((k) => `"${k}"`).join(', ')}`, kind ?? '(missing)');
  }
  return kind as ProfileKind;
}

/** The most specific error: deepest path first, then schema order. */
function pickError(errors: ErrorObject[]): ErrorObject {
  return [...errors].sort((a, b) => depth(b) - depth(a))[0]!;
}

function depth(e: ErrorObject): number {
  const path = e.keyword === 'required' ? `${e.instancePath}/${e.params.missingProperty}` : e.instancePath;
  return path.split('/').length;
}

function describeError(e: ErrorObject, data: unknown, file: string): InputError {
  const at = (path: string) => path || '/';
  switch (e.keyword) {
    case 'required': {
      const field = `${e.instancePath}/${e.params.missingProperty as string}`;
      const sub = (e.parentSchema as { properties?: Record<string, unknown> })?.properties?.[e.params.missingProperty as string];
      return InputError.field(file, field, `${describeSchema(sub) ?? 'this field'} (the field is missing)`);
    }
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const extra = e.params.additionalProperty as string;
      return InputError.field(file, `${e.instancePath}/${extra}`, `only the known fields (${allowed.join(', ')}); "${extra}" is not one`);
    }
    case 'enum':
    case 'const':
      return InputError.field(file, at(e.instancePath), describeSchema(e.parentSchema) ?? e.message ?? 'a valid value', e.data);
    default:
      return InputError.field(file, at(e.instancePath), describeSchema(e.parentSchema) ?? (e.message ?? 'a valid value'), e.data);
  }
}

/** A schema node's `description`, following one `$ref` if needed. */
function describeSchema(schema: unknown): string | undefined {
  const s = schema as { description?: string; $ref?: string } | undefined;
  if (!s) return undefined;
  if (s.description) return s.description;
  if (s.$ref) {
    const ref = s.$ref.startsWith('http') ? s.$ref : `${SCHEMA_BASE}${s.$ref}`;
    const target = instance().getSchema(ref)?.schema as { description?: string } | undefined;
    return target?.description;
  }
  return undefined;
}
