/**
 * Finding, reading and validating profiles. Shipped profiles are `hardware-profiles/<folder>/<id>.json`; a
 * profile refers to another by id (shipped) or by a path ending in .json (relative to the referring file).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../common/errors.js';
import { readJsonFile } from './json-source.js';
import { displayPath, profilesRoot } from './profile-paths.js';
import type { ProfileByKind } from './profile-types.js';
import { type ProfileKind, profileKind, validateProfile } from './schema.js';

/** The folder under hardware-profiles/ that holds each kind. */
export const KIND_FOLDER: Record<ProfileKind, string> = {
  gpu: 'gpus',
  cpu: 'cpus',
  nic: 'nics',
  'ib-switch': 'switches',
  'pcie-switch': 'switches',
  server: 'servers',
  cluster: 'clusters',
  nccl: 'nccl',
};

export interface LoadedProfile<K extends ProfileKind = ProfileKind> {
  kind: K;
  id: string;
  /** Absolute path. */
  file: string;
  /** The path as shown in messages. */
  display: string;
  data: ProfileByKind[K];
}

const cache = new Map<string, LoadedProfile>();

/** Reads, parses and schema-validates one profile file (cached by absolute path). */
export function loadProfileFile(path: string): LoadedProfile {
  const file = resolve(path);
  const hit = cache.get(file);
  if (hit) return hit;
  const display = displayPath(file);
  const data = readJsonFile(file, display);
  const kind = profileKind(data, display);
  validateProfile(kind, data, display);
  const id = (data as { id: string }).id;
  if (isShipped(file) && basename(file, '.json') !== id) {
    throw InputError.field(display, '/id', `the file's base name "${basename(file, '.json')}" (shipped profiles are <id>.json)`, id);
  }
  const loaded = { kind, id, file, display, data } as LoadedProfile;
  cache.set(file, loaded);
  return loaded;
}

function isShipped(file: string): boolean {
  return file.startsWith(profilesRoot());
}

/** Every shipped profile file (not the schemas), sorted. */
export function shippedProfileFiles(): string[] {
  const root = profilesRoot();
  const folders = [...new Set(Object.values(KIND_FOLDER))].sort();
  return folders.flatMap((folder) => {
    const dir = join(root, folder);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
  });
}

/** Ids of the shipped profiles of one kind, for error messages and help. */
export function shippedIds(kind: ProfileKind): string[] {
  const dir = join(profilesRoot(), KIND_FOLDER[kind]);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f))
    .filter((f) => {
      try {
        return loadProfileFile(f).kind === kind;
      } catch {
        return false;
      }
    })
    .map((f) => basename(f, '.json'))
    .sort();
}

/**
 * Resolves a reference to a profile of `kind`: a shipped id, or a path ending in .json relative to `baseDir`.
 * `file` and `field` name where the reference was written, for the error message.
 */
export function resolveProfile<K extends ProfileKind>(kind: K, ref: string, file: string, field: string, baseDir?: string): LoadedProfile<K> {
  let path: string;
  if (ref.endsWith('.json')) {
    path = resolve(baseDir ?? process.cwd(), ref);
  } else {
    path = join(profilesRoot(), KIND_FOLDER[kind], `${ref}.json`);
  }
  if (!/^[A-Za-z0-9._/\\-]+$/.test(ref) || !existsSync(path)) {
    throw InputError.field(file, field, `a known ${kind} profile (${shippedIds(kind).join(', ')}) or a path to a .json ${kind} profile`, ref);
  }
  const loaded = loadProfileFile(path);
  if (loaded.kind !== kind) {
    throw InputError.field(file, field, `a ${kind} profile`, `${ref} (a ${loaded.kind} profile)`);
  }
  return loaded as LoadedProfile<K>;
}

/** Resolves a reference written inside a loaded profile (relative paths are relative to that profile). */
export function resolveRef<K extends ProfileKind>(from: LoadedProfile, field: string, ref: string, kind: K): LoadedProfile<K> {
  return resolveProfile(kind, ref, from.display, field, dirname(from.file));
}
