"""Emulated fp16 mixed-precision forward pass of GPT-NeoX, as the 20B run computed it (docs/numerics.md §4, §7).

CPU torch 1.13 has no fp16 matmul, layer_norm or softmax, so this runs in float32 and rounds to binary16
with `.half()` at every cast point of the spec (float32 -> binary16 is a single rounding):
  * parameters: the float64 initial values rounded directly to binary16 (numpy astype, no double rounding);
  * GEMMs in float32 (Debian's netlib BLAS sums in ascending k), rounded once; the QKV bias inside that
    rounding (F.linear with bias), the attention.dense and dense_4h_to_h biases added after it and rounded
    again (gpt-neox's skip_bias_add + bias_dropout_add); dense_h_to_4h's bias inside the fused GELU;
  * rotary with the 2022 fp16 cos/sin tables; scores with 1/sqrt(d) before rounding; fused softmax, GELU,
    LayerNorm and rotary each rounded once; residual adds rounded one by one.
Where torch's float32 kernels use another summation order or transcendental than the spec, this file
states the spec's: LayerNorm and softmax sums run left to right in float32 (torch.cumsum would accumulate
float32 in double), and exp, tanh and erf are evaluated in float64 and rounded to float32.
"""
import numpy as np
import torch
import torch.nn.functional as F


def r16(t):
    return t.half().float()


def seqsum(x):
    """Left-to-right float32 sum over the last dim, keeping it as size 1."""
    acc = torch.zeros(x.shape[:-1] + (1,), dtype=torch.float32)
    for j in range(x.shape[-1]):
        acc = acc + x[..., j:j + 1]
    return acc


class NeoXFp16:
    def __init__(self, cfg, params_f64):
        self.cfg = cfg
        self.p = {n: torch.tensor(v.astype(np.float16).astype(np.float32)) for n, v in params_f64.items()}
        self.h = cfg['hiddenSize']
        self.nh = cfg['numHeads']
        self.hd = self.h // self.nh
        self.rot = int(self.hd * cfg['rotaryPct'])
        inv = r16(1.0 / (cfg['rotaryEmbBase'] ** (torch.arange(0, self.rot, 2).float() / self.rot)))
        freqs = r16(torch.outer(torch.arange(cfg['maxPositionEmbeddings']).float(), inv))
        emb = torch.cat((freqs, freqs), -1)
        self.cos, self.sin = r16(emb.cos()), r16(emb.sin())

    def ln(self, x, name):
        mu = seqsum(x) / self.h
        d = x - mu
        rstd = 1.0 / torch.sqrt(seqsum(d * d) / self.h + torch.tensor(self.cfg['layernormEpsilon'], dtype=torch.float32))
        return r16((d * rstd) * self.p[name + '.weight'] + self.p[name + '.bias'])

    def attention(self, x, pre):
        B, T, _ = x.shape
        qkv = r16(F.linear(x, self.p[pre + 'attention.query_key_value.weight'], self.p[pre + 'attention.query_key_value.bias']))
        qkv = qkv.view(B, T, self.nh, 3 * self.hd)
        q, k, v = (qkv[..., i * self.hd:(i + 1) * self.hd].permute(0, 2, 1, 3) for i in range(3))
        cos, sin = self.cos[:T], self.sin[:T]

        def rope(z):
            zr, zp = z[..., :self.rot], z[..., self.rot:]
            half = self.rot // 2
            rotated = torch.cat((-zr[..., half:], zr[..., :half]), -1)
            return torch.cat((r16(zr * cos + rotated * sin), zp), -1)

        q, k = rope(q), rope(k)
        scores = r16(torch.matmul(q, k.transpose(-1, -2)) * (self.hd ** -0.5))
        scores = scores.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float('-inf'))
        e = torch.exp((scores - scores.max(-1, keepdim=True).values).double()).float()
        probs = r16(e / seqsum(e))
        ctx = r16(torch.matmul(probs, v)).permute(0, 2, 1, 3).reshape(B, T, self.h)
        return r16(r16(F.linear(ctx, self.p[pre + 'attention.dense.weight'])) + self.p[pre + 'attention.dense.bias'])

    def mlp(self, x, pre):
        u = r16(F.linear(x, self.p[pre + 'mlp.dense_h_to_4h.weight'])) + self.p[pre + 'mlp.dense_h_to_4h.bias']
        if self.cfg['activation'] == 'gelu-tanh':
            act = u * 0.5 * (1.0 + torch.tanh((0.79788456 * u * (1.0 + 0.044715 * u * u)).double()).float())
        else:
            act = u * 0.5 * (1.0 + torch.erf((u * 0.7071067811865476).double()).float())
        return r16(r16(F.linear(r16(act), self.p[pre + 'mlp.dense_4h_to_h.weight'])) + self.p[pre + 'mlp.dense_4h_to_h.bias'])

    def logits(self, ids):
        x = self.p['gpt_neox.embed_in.weight'][ids]
        for i in range(self.cfg['numLayers']):
            pre = f'gpt_neox.layers.{i}.'
            if self.cfg['parallelResidual']:
                a = self.attention(self.ln(x, pre + 'input_layernorm'), pre)
                m = self.mlp(self.ln(x, pre + 'post_attention_layernorm'), pre)
                x = r16(x + r16(a + m))
            else:
                x = r16(x + self.attention(self.ln(x, pre + 'input_layernorm'), pre))
                x = r16(x + self.mlp(self.ln(x, pre + 'post_attention_layernorm'), pre))
        return r16(F.linear(self.ln(x, 'gpt_neox.final_layer_norm'), self.p['embed_out.weight']))

    def loss(self, tokens):
        """Mean cross entropy in float32 of the binary16 logits (gpt-neox's output.float()); returns (loss, logits)."""
        logits = self.logits(tokens[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1)), logits
