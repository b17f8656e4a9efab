import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../../src/backends/js/index.js';
import { InputError } from '../../src/common/errors.js';
import { getPreset } from '../../src/model/presets.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/trainer/checkpoint/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/trainer/checkpoint/safetensors.js';
import { Trainer } from '../../src/trainer/trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'neox-ckpt-'));
const cfg = getPreset('neox-tiny');

describe('safetensors checkpoints with HF GPTNeoX names', () => {
  it.each([
    ['fp64', 'F64'],
    ['fp32', 'F32'],
    ['fp16', 'F16'],
  ] as const)('%s: saves %s tensors and loads them back exactly', (precision, dtype) => {
    const a = new Trainer({ backend: createJsKernels, model: cfg, precision, seed: 3 });
    const file = join(dir, `${precision}.safetensors`);
    saveCheckpoint(file, a.model);
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    expect(header.__metadata__.format).toBe('pt');
    expect(header['gpt_neox.layers.0.attention.query_key_value.weight']).toMatchObject({ dtype, shape: [192, 64] });
    expect(header['embed_out.weight'].shape).toEqual([128, 64]);
    const b = new Trainer({ backend: createJsKernels, model: cfg, precision, seed: 4 });
    b.setParams(loadCheckpoint(file, b.model.params.list), file);
    b.model.params.list.forEach((p, i) => expect(p.data).toEqual(a.model.params.list[i]!.data));
  });

  it('decodes a file written to the format by hand, ignoring non-parameter buffers', () => {
    const json = JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F16', shape: [1, 1], data_offsets: [8, 10] } });
    const header = Buffer.from(json.padEnd(Math.ceil(json.length / 8) * 8, ' '));
    const data = Buffer.alloc(10);
    data.writeFloatLE(1.5, 0);
    data.writeFloatLE(-2, 4);
    data.writeUInt16LE(0x3c00, 8); // binary16 1.0
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const { tensors } = decodeSafetensors(Buffer.concat([len, header, data]), 'hand.safetensors');
    expect(Array.from(tensors.get('x')!.data)).toEqual([1.5, -2]);
    expect(tensors.get('y')).toMatchObject({ dtype: 'F16', shape: [1, 1] });
    expect(tensors.get('y')!.data[0]).toBe(1);
    const round = decodeSafetensors(encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: [1.5, -2] }]), 'r');
    expect(Array.from(round.tensors.get('x')!.data)).toEqual([1.5, -2]);
  });

  it('rejects malformed files and mismatched tensors with the file and field named', () => {
    const bad = (bytes: Uint8Array) => () => decodeSafetensors(bytes, 'bad.safetensors');
    expect(bad(new Uint8Array(3))).toThrow(/^bad.safetensors: header length: expected an 8-byte/);
    const enc = encodeSafetensors([{ name: 'w', dtype: 'F64', shape: [4], data: [1, 2, 3, 4] }]);
    expect(bad(enc.subarray(0, enc.length - 8))).toThrow(/^bad.safetensors: w.data_offsets: expected \[begin, begin \+ 32\]/);
    const garbled = Uint8Array.from(enc);
    garbled[9] = 0x7b; // '{{' is not JSON
    expect(bad(garbled)).toThrow(/^bad.safetensors: header: expected a JSON object$/);

    const t = new Trainer({ backend: createJsKernels, model: cfg });
    const other = new Trainer({ backend: createJsKernels, model: getPreset('neox-tiny3') });
    const file = join(dir, 'tiny3.safetensors');
    saveCheckpoint(file, other.model);
    expect(() => loadCheckpoint(file, t.model.params.list)).toThrow(InputError);
    expect(() => loadCheckpoint(file, t.model.params.list)).toThrow(`${file}: gpt_neox.embed_in.weight: expected shape [128, 64], got "[128, 96]"`);
    const missing = join(dir, 'missing.safetensors');
    writeFileSync(missing, encodeSafetensors([{ name: 'gpt_neox.embed_in.weight', dtype: 'F32', shape: [128, 64], data: new Float32Array(8192) }]));
    expect(() => loadCheckpoint(missing, t.model.params.list)).toThrow(/gpt_neox.layers.0.input_layernorm.weight: expected a tensor of shape \[64\] \(missing\)/);
    expect(() => loadCheckpoint(join(dir, 'nope.safetensors'), t.model.params.list)).toThrow(/nope.safetensors: expected a readable safetensors file, got "ENOENT"/);
  });
});
