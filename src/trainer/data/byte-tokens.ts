import { InputError } from '../../common/errors.js';
import { Rng } from '../rng.js';

/**
 * Byte-level tokens for small-vocabulary models: each UTF-8 byte of the text is one token id, which keeps
 * the reduced-scale presets (vocab 128) trainable on plain text. Every byte must be below the vocabulary
 * size. The NeoX BPE tokenizer is in ./tokenizer.ts, Megatron's .bin/.idx data in ./indexed-dataset.ts.
 */
export function bytesToTokens(bytes: Uint8Array, vocab: number, source: string): Int32Array {
  const tokens = new Int32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= vocab) {
      throw InputError.field(source, `byte ${i}`, `a byte below the model's vocabulary size ${vocab} (byte-level tokens; use ASCII text or a model with vocab ≥ 256)`, `0x${bytes[i]!.toString(16)}`);
    }
    tokens[i] = bytes[i]!;
  }
  return tokens;
}

/**
 * Samples of seqLength + 1 tokens cut from one token stream as Megatron's GPT2Dataset does (sample i
 * starts at i·seqLength, so consecutive samples share one token), visited in a seeded shuffled order,
 * reshuffled every epoch.
 */
export class SampleStream {
  readonly samples: number;
  private order: Int32Array;
  private next = 0;
  private epoch = 0;

  constructor(private readonly tokens: Int32Array, private readonly seqLength: number, private readonly seed: number, source: string) {
    this.samples = Math.floor((tokens.length - 1) / seqLength);
    if (this.samples < 1) throw InputError.field(source, 'length', `at least ${seqLength + 1} tokens for one sequence`, tokens.length);
    this.order = this.shuffled();
  }

  /** `rows` samples, row-major [rows, seqLength + 1]. */
  take(rows: number): Int32Array {
    const w = this.seqLength + 1;
    const out = new Int32Array(rows * w);
    for (let r = 0; r < rows; r++) {
      if (this.next === this.samples) {
        this.epoch += 1;
        this.order = this.shuffled();
        this.next = 0;
      }
      const start = this.order[this.next++]! * this.seqLength;
      out.set(this.tokens.subarray(start, start + w), r * w);
    }
    return out;
  }

  /** Fisher–Yates with Rng(seed, 1_000_000 + epoch): a stream apart from the init streams. */
  private shuffled(): Int32Array {
    const rng = new Rng(this.seed, 1_000_000 + this.epoch);
    const a = Int32Array.from({ length: this.samples }, (_, i) => i);
    for (let i = a.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}
