import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import { InputError } from '../../common/errors.js';
import type { NeoXConfig } from '../../model/config.js';
import { paddedVocabSize } from '../../model/config.js';

/** How a tensor starts (gpt-neox megatron/model/init_functions.py @c560814b). */
export type InitRule = { kind: 'normal'; std: number } | { kind: 'const'; value: number };

export interface ParamSpec {
  /** The HF GPTNeoX state-dict name, e.g. `gpt_neox.layers.0.attention.query_key_value.weight`. */
  name: string;
  /** HF layout: Linear weights are [out, in]; embeddings [vocab, hidden]. */
  shape: number[];
  init: InitRule;
  /** gpt-neox get_params_for_weight_decay_optimization: no decay on biases and LayerNorm parameters. */
  decay: boolean;
}

export interface Param extends ParamSpec {
  size: number;
  /** Model-precision values (binary16-valued in fp16 mode). */
  data: FloatBuf;
  /** Gradient, same precision as data; accumulates over micro-batches. */
  grad: FloatBuf;
}

/**
 * small_init σ = √(2/(5h)); wang_init σ = 2/(L·√h) (neox-20b.md §2.9); 'normal' σ = initMethodStd;
 * 'scaled_normal' σ = initMethodStd/√(2L) (init_functions.py scaled_init_method_normal).
 */
function initStd(cfg: NeoXConfig, method: NeoXConfig['initMethod']): number {
  if (method === 'small_init') return Math.sqrt(2 / (5 * cfg.hiddenSize));
  if (method === 'wang_init') return 2 / cfg.numLayers / Math.sqrt(cfg.hiddenSize);
  if (method === 'scaled_normal') return cfg.initMethodStd / Math.sqrt(2 * cfg.numLayers);
  return cfg.initMethodStd;
}

/** Every parameter of a NeoX model in HF GPTNeoX state-dict order. */
export function neoxParamSpecs(cfg: NeoXConfig): ParamSpec[] {
  const h = cfg.hiddenSize;
  const f = cfg.ffnHiddenSize;
  const v = paddedVocabSize(cfg);
  const weight = { kind: 'normal', std: initStd(cfg, cfg.initMethod) } as const;
  const outWeight = { kind: 'normal', std: initStd(cfg, cfg.outputLayerInitMethod) } as const;
  const zero = { kind: 'const', value: 0 } as const;
  const one = { kind: 'const', value: 1 } as const;
  const specs: ParamSpec[] = [{ name: 'gpt_neox.embed_in.weight', shape: [v, h], init: weight, decay: true }];
  const norm = (name: string) => [
    { name: `${name}.weight`, shape: [h], init: one, decay: false },
    { name: `${name}.bias`, shape: [h], init: zero, decay: false },
  ];
  const linear = (name: string, out: number, inp: number, init: InitRule) => [
    { name: `${name}.weight`, shape: [out, inp], init, decay: true },
    { name: `${name}.bias`, shape: [out], init: zero, decay: false },
  ];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `gpt_neox.layers.${i}`;
    specs.push(
      ...norm(`${p}.input_layernorm`),
      ...norm(`${p}.post_attention_layernorm`),
      ...linear(`${p}.attention.query_key_value`, 3 * h, h, weight),
      ...linear(`${p}.attention.dense`, h, h, outWeight),
      ...linear(`${p}.mlp.dense_h_to_4h`, f, h, weight),
      ...linear(`${p}.mlp.dense_4h_to_h`, h, f, outWeight),
    );
  }
  specs.push(...norm('gpt_neox.final_layer_norm'));
  // gpt2_model.py passes init_method (small_init) to the output layer; untied, no bias.
  specs.push({ name: 'embed_out.weight', shape: [v, h], init: weight, decay: true });
  return specs;
}

/** The model's parameters and gradients, allocated by its backend, addressable by HF name. */
export class ParamStore {
  readonly list: Param[];
  private readonly byName = new Map<string, Param>();

  constructor(K: Kernels, specs: ParamSpec[]) {
    this.list = specs.map((s) => {
      const size = s.shape.reduce((a, b) => a * b, 1);
      return { ...s, size, data: K.alloc(size), grad: K.alloc(size) };
    });
    for (const p of this.list) this.byName.set(p.name, p);
  }

  get(name: string): Param {
    const p = this.byName.get(name);
    if (!p) throw new InputError(`unknown parameter "${name}"`);
    return p;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Total number of scalars. */
  count(): number {
    return this.list.reduce((a, p) => a + p.size, 0);
  }
}
