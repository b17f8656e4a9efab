import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('neox-sim train on a NeoX-vocabulary preset', () => {
  it('neox-small takes the NeoX-20B tokenizer by default', () => {
    // One run: initializing 28.9 M parameters dominates (about 5 s); determinism is checked on a 1-layer config.
    const r = runCli(['train', '--model', 'neox-small', '--steps', '2', '--batch', '1', '--seq', '16']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('train neox-small: 28,915,200 parameters, fp32, wasm backend');
    expect(lines[1]).toBe('batch 1 × 1 micro-batch(es) × 16 tokens; data built-in Pride and Prejudice opening: 1769 bytes as 464 neox-20b tokens, 28 samples');
    expect(lines.at(-1)).toMatch(/^2 steps, 0 skipped; final loss (10|11)\.\d{4}$/);
  });
});
