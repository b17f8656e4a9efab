import type { FloatBuf, Kernels } from '../../backends/kernels.js';
import type { Param } from './params.js';

/** gpt_neox.embed_in: token ids → rows of the [padded vocab, hidden] table (no position embedding: rotary). */
export class Embedding {
  constructor(private readonly K: Kernels, readonly table: Param, readonly hidden: number) {}

  forward(ids: Int32Array, rows: number, y: FloatBuf): void {
    this.K.embedding({ rows, n: this.hidden, ids, table: this.table.data, y });
  }

  backward(ids: Int32Array, rows: number, dy: FloatBuf): void {
    this.K.embeddingBackward({ rows, n: this.hidden, ids, dy, dtable: this.table.grad });
  }
}
