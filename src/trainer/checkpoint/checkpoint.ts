import { InputError } from '../../common/errors.js';
import type { NeoXModel } from '../model/neox.js';
import type { ParamSpec } from '../model/params.js';
import { readSafetensors, writeSafetensors, type SafeDType } from './safetensors.js';

/**
 * Model weights as a safetensors file with HF GPTNeoX names and layouts, so HF transformers can load it
 * (GPTNeoXForCausalLM.from_pretrained with a matching config.json) and HF weights load here. Saved in the
 * model's storage precision (F64, F32, or F16 in fp16 mode, the 20B release's dtype).
 */
export function saveCheckpoint(path: string, model: NeoXModel): void {
  const dtype: SafeDType = model.K.dtype === 'f64' ? 'F64' : model.K.dtype === 'f32' ? 'F32' : 'F16';
  const tensors = model.params.list.map((p) => ({ name: p.name, dtype, shape: p.shape, data: p.data }));
  writeSafetensors(path, tensors, { format: 'pt', 'neox-sim.model': JSON.stringify(model.cfg) });
}

/**
 * Reads the parameters a model needs from a safetensors file: every name must be present with the same
 * shape; other tensors (HF's attention.bias mask buffers, rotary inv_freq) are ignored.
 */
export function loadCheckpoint(path: string, specs: ParamSpec[]): Map<string, Float64Array> {
  const { tensors } = readSafetensors(path);
  const out = new Map<string, Float64Array>();
  for (const s of specs) {
    const t = tensors.get(s.name);
    if (!t) throw InputError.field(path, s.name, `a tensor of shape [${s.shape.join(', ')}] (missing)`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw InputError.field(path, s.name, `shape [${s.shape.join(', ')}]`, `[${t.shape.join(', ')}]`);
    }
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw InputError.field(path, `${s.name}[${bad}]`, 'a finite weight', t.data[bad]);
    out.set(s.name, t.data);
  }
  return out;
}
