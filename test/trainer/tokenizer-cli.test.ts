import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliAsync as runAsync, runCli } from '../helpers/cli.js';

const emma = join(import.meta.dirname, 'fixtures/emma.txt');
const tinyNeox = join(import.meta.dirname, 'data/tiny-neox-vocab.yml');
const steps = (out: string) => out.split('\n').filter((l) => /^\s+\d+\s+\d+\.\d{4}\s/.test(l));

describe('neox-sim train --tokenizer', () => {
  it('a model with the NeoX vocabulary trains on NeoX-20B BPE tokens by default, byte-identical across runs', async () => {
    const args = ['train', '--config', tinyNeox, '--steps', '2', '--batch', '1'];
    const [a, b] = await Promise.all([runAsync([...args, '--tokenizer', 'neox-20b']), runAsync(args)]);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    const lines = a.stdout.trim().split('\n');
    expect(lines[0]).toBe('train tiny-neox-vocab: 1,613,040 parameters, fp32, wasm backend');
    expect(lines[1]).toBe('batch 1 × 1 micro-batch(es) × 16 tokens; data built-in Pride and Prejudice opening: 1769 bytes as 464 neox-20b tokens, 28 samples');
    expect(steps(a.stdout)).toHaveLength(2);
    // Untrained, the loss is about ln(50,277) = 10.8.
    expect(Number(steps(a.stdout)[0]!.trim().split(/\s+/)[1])).toBeCloseTo(10.8, 0);
    expect(b.stdout).toBe(a.stdout);
    const json = JSON.parse(runCli([...args, '--steps', '1', '--json']).stdout);
    expect(json.data).toEqual({ source: 'built-in Pride and Prejudice opening', bytes: 1769, tokens: 'neox-20b', tokenizer: 'neox-20b', tokenCount: 464, samples: 28 });
  });

  it('--json names the tokenizer and the token count; --tokenizer bytes keeps byte tokens', () => {
    const r = runCli(['train', '--model', 'neox-tiny', '--steps', '1', '--batch', '1', '--backend', 'js', '--tokenizer', 'bytes', '--data', emma, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).data).toEqual({ source: emma, bytes: 1247, tokens: 'utf-8 bytes', tokenizer: 'bytes', tokenCount: 1247, samples: 77 });
  });

  it.concurrent.each([
    [['--model', 'neox-tiny', '--tokenizer', 'neox-20b'], "neox-sim: --tokenizer: neox-20b: vocabulary: expected at most the model's 128 token ids (use --tokenizer bytes, or a model with the NeoX vocabulary), got \"50277 ids\"\n"],
    [['--model', 'neox-tiny', '--tokenizer', 'gpt2'], 'neox-sim: --tokenizer: expected bytes | neox-20b | a tokenizer.json file, got "gpt2"\n'],
    [['--model', 'neox-tiny', '--tokenizer', '/no/such/tokenizer.json'], 'neox-sim: /no/such/tokenizer.json: expected a readable Hugging Face tokenizer.json file, got "ENOENT"\n'],
    [['--model', 'neox-tiny', '--data-prefix', '/no/such/prefix'], 'neox-sim: /no/such/prefix.idx: expected a readable Megatron indexed dataset file (--data-prefix P reads P.bin and P.idx), got "ENOENT"\n'],
    [['--model', 'neox-tiny', '--data-prefix', 'p', '--data', emma], 'neox-sim: --data-prefix: expected either --data FILE or --data-prefix P, not both, got "p"\n'],
  ])('bad input %j: one line on stderr, exit 2', async (args, message) => {
    const r = await runAsync(['train', ...args]);
    expect(r.stderr).toBe(message);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });
});

