import type { FloatBuf } from '../backends/kernels.js';
import { InputError } from '../common/errors.js';
import type { NeoXConfig } from '../model/config.js';
import { validateConfig } from '../model/config.js';

/** Rejects model shapes the trainer cannot run: the shared checks, then what the trainer adds. */
export function validateTrainerConfig(cfg: NeoXConfig): void {
  validateConfig(cfg);
  const where = `model ${cfg.name}`;
  if (!(cfg.layernormEpsilon > 0)) throw InputError.field(where, 'layernormEpsilon', 'a positive number', cfg.layernormEpsilon);
  if (!(cfg.rotaryEmbBase > 0)) throw InputError.field(where, 'rotaryEmbBase', 'a positive number', cfg.rotaryEmbBase);
  if ((cfg.positionEmbedding ?? 'rotary') !== 'rotary') {
    throw InputError.field(where, 'positionEmbedding', '"rotary" (the trainer has no learned position table)', cfg.positionEmbedding);
  }
  if (cfg.tieWordEmbeddings) throw InputError.field(where, 'tieWordEmbeddings', 'false (NeoX keeps embed_in and embed_out separate)', true);
  if (cfg.seqLength > cfg.maxPositionEmbeddings) {
    throw InputError.field(where, 'seqLength', `at most maxPositionEmbeddings (${cfg.maxPositionEmbeddings})`, cfg.seqLength);
  }
}

/**
 * Checks a batch of token sequences: `rows` sequences of `width` ids, every id an integer in [0, vocab).
 * Accepts any array of numbers so NaN or fractions are reported rather than silently truncated.
 */
export function validateTokens(tokens: ArrayLike<number>, rows: number, width: number, vocab: number, where = 'tokens'): void {
  if (tokens.length !== rows * width) {
    throw InputError.field(where, 'length', `${rows} sequences × ${width} tokens = ${rows * width}`, tokens.length);
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= vocab) {
      throw InputError.field(where, `[${i}] (sequence ${Math.floor(i / width)}, position ${i % width})`, `an integer token id in [0, ${vocab})`, t);
    }
  }
}

/** Throws when a buffer holds NaN or ±Inf, naming the tensor and the first bad index. */
export function assertFinite(name: string, x: FloatBuf, n = x.length): void {
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]!)) throw InputError.field(name, `[${i}]`, 'a finite value', x[i]);
  }
}
