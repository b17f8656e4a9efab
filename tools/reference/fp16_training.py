"""Emulated fp16 mixed-precision training of GPT-NeoX (docs/numerics.md §1, §4-§7): forward, backward and
optimizer steps, independent of the TypeScript trainer.

The model is split into the trainer's kernels. Each kernel is an exact float64 function of its binary16
inputs (its gradients come from torch autograd inside the kernel), and rounds to binary16 exactly where the
spec stores a binary16 tensor:
  * every kernel output of the forward (parameters, activations, logits), once per kernel;
  * every gradient a backward kernel writes (dx of each input, dW, db, dgamma, dbeta), once per kernel;
  * the spec's split kernels: attention.dense and dense_4h_to_h add their bias after the stored product
    (a second rounding); dense_h_to_4h's bias goes into the fused GELU, whose bias gradient is the row
    sum of the *stored* GELU input gradient; baddbmm's backward rounds dq = dS·k and dk = dSᵀ·q, then
    multiplies by 1/sqrt(d) and rounds again; the softmax backward uses the stored binary16 P;
  * gradients from several consumers of one tensor are added in the spec's order, each sum rounded
    (parallel residual: the residual's, then LN2's, then LN1's);
  * gradient accumulation over micro-batches: grad = r16(grad + r16(fresh));
  * dlogits = r16((softmax - onehot) * lossScale / (GAS * rows)) from a float64 cross entropy of the
    binary16 logits (gpt-neox's output.float()).
Optimizer, as DeepSpeed's fp16 optimizer with a static loss scale (the dynamic scaler's initial 2^12 never
changes in 3 overflow-free steps): overflow check and grad norm as float64 sums of the binary16 grads;
unscale-and-clip factor rounded to float32; master grads, master weights and Adam m, v are float32
(each op in float64, every stored result rounded to float32); parameters = r16(master).

Rounding: binary16 with numpy's astype (float64 -> binary16 directly, round to nearest even). torch 1.13's
float64 .to(torch.float16) goes through float32 and so rounds twice (1 + 2^-11 + 2^-40 becomes 1.0, not
1 + 2^-10); it is used for float32 only.

The inside of each kernel is float64 where the trainer uses float32. So the two agree to the last bit only
where no float32 rounding error moves a value across a binary16 rounding boundary; the comparison uses the
tolerances of docs/numerics.md §9.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


def r16(t):
    """float64 -> nearest binary16 (ties to even), back as float64; one rounding."""
    return torch.from_numpy(t.detach().numpy().astype(np.float16).astype(np.float64))


def r32(t):
    return t.detach().to(torch.float32).to(torch.float64)


class Kernel(torch.autograd.Function):
    """out = r16(fn(*inputs)); backward: each input's gradient from autograd through fn, rounded to binary16."""

    @staticmethod
    def forward(ctx, fn, *inputs):
        ctx.fn = fn
        ctx.save_for_backward(*inputs)
        with torch.no_grad():
            return r16(fn(*inputs))

    @staticmethod
    def backward(ctx, g):
        inputs = [x.detach().requires_grad_(True) for x in ctx.saved_tensors]
        with torch.enable_grad():
            out = ctx.fn(*inputs)
            grads = torch.autograd.grad(out, inputs, g, allow_unused=True)
        return (None,) + tuple(None if d is None else r16(d) for d in grads)


def kernel(fn, *inputs):
    return Kernel.apply(fn, *inputs)


class BiasGelu(torch.autograd.Function):
    """bias_gelu: act = r16(gelu(pre + b)); dpre = r16(dy * gelu'(pre + b)); db = r16(sum_rows dpre)."""

    @staticmethod
    def forward(ctx, pre, b, kind):
        ctx.kind = kind
        ctx.save_for_backward(pre, b)
        with torch.no_grad():
            return r16(gelu(pre + b, kind))

    @staticmethod
    def backward(ctx, g):
        pre, b = ctx.saved_tensors
        u = (pre + b).detach().requires_grad_(True)
        with torch.enable_grad():
            (du,) = torch.autograd.grad(gelu(u, ctx.kind), [u], g)
        dpre = r16(du)
        return dpre, r16(dpre.reshape(-1, dpre.shape[-1]).sum(0)), None


class Scores(torch.autograd.Function):
    """S = r16((q·kᵀ)·scale) (baddbmm, alpha inside); backward dq = r16(r16(dS·k)·scale), dk likewise."""

    @staticmethod
    def forward(ctx, q, k, scale):
        ctx.scale = scale
        ctx.save_for_backward(q, k)
        return r16(torch.matmul(q, k.transpose(-1, -2)) * scale)

    @staticmethod
    def backward(ctx, g):
        q, k = ctx.saved_tensors
        return r16(r16(torch.matmul(g, k)) * ctx.scale), r16(r16(torch.matmul(g.transpose(-1, -2), q)) * ctx.scale), None


class CausalSoftmax(torch.autograd.Function):
    """P = r16(softmax over j <= i), masked entries +0; dS = r16(P·(dP - sum_j P·dP)) with the stored P."""

    @staticmethod
    def forward(ctx, s):
        T = s.shape[-1]
        p = r16(torch.softmax(s.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float('-inf')), dim=-1))
        ctx.save_for_backward(p)
        return p

    @staticmethod
    def backward(ctx, g):
        (p,) = ctx.saved_tensors
        return r16(p * (g - (p * g).sum(-1, keepdim=True)))


class Fork(torch.autograd.Function):
    """One tensor read by several kernels: the gradients are added in argument order, each sum rounded."""

    @staticmethod
    def forward(ctx, x, n):
        return tuple(x.clone() for _ in range(n))

    @staticmethod
    def backward(ctx, *gs):
        acc = None
        for g in gs:
            if g is None:
                continue
            acc = g if acc is None else r16(acc + g)
        return acc, None


class CrossEntropy(torch.autograd.Function):
    """Sum over rows of float64 cross entropy of binary16 logits; dlogits = r16((softmax - onehot)·seed)."""

    @staticmethod
    def forward(ctx, logits, labels):
        ctx.save_for_backward(logits, labels)
        return F.cross_entropy(logits, labels, reduction='sum')

    @staticmethod
    def backward(ctx, seed):
        logits, labels = ctx.saved_tensors
        d = torch.softmax(logits, dim=-1) - F.one_hot(labels, logits.shape[-1]).to(torch.float64)
        return r16(d * seed), None


def gelu(x, kind):
    if kind == 'gelu-tanh':
        return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1.0 + 0.044715 * x * x)))
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def rotary_tables_fp16(positions, rot, base):
    """The 2022 code's fp16 tables (docs/numerics.md §7): float32 inv_freq rounded to binary16, t·inv_freq
    rounded to binary16, cos and sin rounded to binary16 (the float32 steps are exact-math-then-float32)."""
    j = torch.arange(0, rot, 2, dtype=torch.float64)
    inv = r16(r32(1.0 / r32(torch.pow(torch.tensor(float(base), dtype=torch.float64), r32(j / rot)))))
    angle = r16(r32(torch.outer(torch.arange(positions, dtype=torch.float64), inv)))
    emb = torch.cat((angle, angle), -1)
    return r16(r32(emb.cos())), r16(r32(emb.sin()))


class NeoXFp16Train:
    """The fp16 model: `params` are leaf float64 tensors holding binary16 values."""

    def __init__(self, cfg, params):
        self.cfg = cfg
        self.p = params
        self.h = cfg['hiddenSize']
        self.nh = cfg['numHeads']
        self.hd = self.h // self.nh
        self.rot = int(self.hd * cfg['rotaryPct'])
        self.eps = cfg['layernormEpsilon']
        self.cos, self.sin = rotary_tables_fp16(cfg['maxPositionEmbeddings'], self.rot, cfg['rotaryEmbBase'])

    def ln(self, x, name):
        return kernel(lambda x, w, b: F.layer_norm(x, (self.h,), w, b, self.eps), x, self.p[name + '.weight'], self.p[name + '.bias'])

    def attention(self, x, pre):
        B, T, _ = x.shape
        p = self.p
        qkv = kernel(lambda x, w, b: F.linear(x, w, b), x, p[pre + 'attention.query_key_value.weight'], p[pre + 'attention.query_key_value.bias'])
        if self.rot > 0:
            cos, sin, rot, hd, half = self.cos[:T], self.sin[:T], self.rot, self.hd, self.rot // 2

            def rope(qkv):
                z = qkv.view(B, T, self.nh, 3, hd)
                parts = []
                for i in range(2):
                    zr, zp = z[..., i, :rot], z[..., i, rot:]
                    rotated = torch.cat((-zr[..., half:], zr[..., :half]), -1)
                    c, s = cos[None, :, None, :], sin[None, :, None, :]
                    parts.append(torch.cat((zr * c + rotated * s, zp), -1))
                parts.append(z[..., 2, :])
                return torch.stack(parts, dim=3).reshape(B, T, 3 * self.h)

            qkv = kernel(rope, qkv)
        qkv = qkv.view(B, T, self.nh, 3 * self.hd)
        q, k, v = (qkv[..., i * self.hd:(i + 1) * self.hd].permute(0, 2, 1, 3) for i in range(3))
        probs = CausalSoftmax.apply(Scores.apply(q, k, self.hd ** -0.5))
        ctx = kernel(torch.matmul, probs, v).permute(0, 2, 1, 3).reshape(B, T, self.h)
        y = kernel(lambda x, w: F.linear(x, w), ctx, p[pre + 'attention.dense.weight'])
        return kernel(torch.add, y, p[pre + 'attention.dense.bias'])

    def mlp(self, x, pre):
        p = self.p
        u = kernel(lambda x, w: F.linear(x, w), x, p[pre + 'mlp.dense_h_to_4h.weight'])
        act = BiasGelu.apply(u, p[pre + 'mlp.dense_h_to_4h.bias'], self.cfg['activation'])
        y = kernel(lambda x, w: F.linear(x, w), act, p[pre + 'mlp.dense_4h_to_h.weight'])
        return kernel(torch.add, y, p[pre + 'mlp.dense_4h_to_h.bias'])

    def logits(self, ids):
        x = kernel(lambda t: t[ids], self.p['gpt_neox.embed_in.weight'])
        for i in range(self.cfg['numLayers']):
            pre = f'gpt_neox.layers.{i}.'
            if self.cfg['parallelResidual']:
                # Gradient order of x: the residual add's, then LN2's (the MLP branch), then LN1's.
                x_res, x_ln2, x_ln1 = Fork.apply(x, 3)
                a = self.attention(self.ln(x_ln1, pre + 'input_layernorm'), pre)
                m = self.mlp(self.ln(x_ln2, pre + 'post_attention_layernorm'), pre)
                x = kernel(torch.add, x_res, kernel(torch.add, a, m))
            else:
                x_res, x_ln1 = Fork.apply(x, 2)
                h = kernel(torch.add, x_res, self.attention(self.ln(x_ln1, pre + 'input_layernorm'), pre))
                h_res, h_ln2 = Fork.apply(h, 2)
                x = kernel(torch.add, h_res, self.mlp(self.ln(h_ln2, pre + 'post_attention_layernorm'), pre))
        x = self.ln(x, 'gpt_neox.final_layer_norm')
        return kernel(lambda x, w: F.linear(x, w), x, self.p['embed_out.weight'])

    def forward_backward(self, tokens, seed):
        """Forward on tokens [B, T+1], backward with `seed` = d(objective)/d(each row's loss).
        Returns (mean loss, logits [B, T, V]); each param's .grad holds this pass's binary16 gradient."""
        logits = self.logits(tokens[:, :-1])
        rows = logits.shape[0] * logits.shape[1]
        total = CrossEntropy.apply(logits.reshape(rows, -1), tokens[:, 1:].reshape(-1))
        total.backward(torch.tensor(seed, dtype=torch.float64))
        return total.item() / rows, logits.detach()


def unscale_factor(scaled_norm, loss_scale, clip_grad):
    """DeepSpeed's unscale_and_clip_grads (docs/numerics.md §6 step 3)."""
    combined = loss_scale
    if clip_grad > 0:
        clip = (scaled_norm / loss_scale + 1e-6) / clip_grad
        if clip > 1:
            combined = clip * loss_scale
    return 1.0 / combined


def fp16_params(params_f64):
    """Initial binary16 parameters (one rounding of the float64 draws) as float64 leaf tensors."""
    return {n: r16(v.detach()).requires_grad_(True) for n, v in params_f64.items()}


def master_grads(params, grads, factor):
    """float32 master grads = f32(grad16 · f32(factor))."""
    f = float(np.float32(factor))
    return {n: r32(grads[n] * f) for n in params}


def train_fp16(cfg, params, decay, tokens, t, annealing_lr, loss_scale):
    """t['steps'] steps of fp16 mixed-precision training from binary16 `params` (modified in place)."""
    o = t['optimizer']
    names = list(params)
    master = {n: params[n].detach().clone() for n in names}  # binary16 values are float32 values
    m = {n: torch.zeros_like(master[n]) for n in names}
    v = {n: torch.zeros_like(master[n]) for n in names}
    b1, b2, eps = (float(np.float32(o[k])) for k in ('beta1', 'beta2', 'eps'))
    gas, mbs = t['gradientAccumulationSteps'], t['microBatchSize']
    seq = cfg['seqLength']
    record = {'losses': [], 'gradNorms': [], 'lrs': [], 'clipped': [], 'lossScales': []}
    updates = 0
    for step in range(t['steps']):
        grads = {n: torch.zeros_like(master[n]) for n in names}
        losses = []
        for g in range(gas):
            model = NeoXFp16Train(cfg, params)
            for p in params.values():
                p.grad = None
            loss, _ = model.forward_backward(tokens[step, g * mbs:(g + 1) * mbs], loss_scale / gas / (mbs * seq))
            losses.append(loss)
            for n in names:
                grads[n] = r16(grads[n] + params[n].grad)
        sum_squares = sum(float((grads[n] ** 2).sum()) for n in names)
        assert math.isfinite(sum_squares), 'the golden case must not overflow'
        norm = math.sqrt(sum_squares)
        factor = unscale_factor(norm, loss_scale, t['clipGrad'])
        lr = annealing_lr(t['schedule'], updates)
        gr = master_grads(names, grads, factor)
        updates += 1
        bc1 = float(np.float32(1 - b1 ** updates))
        bc2 = float(np.float32(1 - b2 ** updates))
        with torch.no_grad():
            for n in names:
                wd = float(np.float32(o['weightDecay'])) if decay[n] else 0.0
                m[n] = r32(b1 * m[n] + (1 - b1) * gr[n])
                v[n] = r32(b2 * v[n] + (1 - b2) * gr[n] * gr[n])
                u = (m[n] / bc1) / (torch.sqrt(v[n] / bc2) + eps) + wd * master[n]
                master[n] = r32(master[n] - float(np.float32(lr)) * u)
                params[n] = r16(master[n]).requires_grad_(True)
        record['losses'].append(sum(losses) / gas)
        record['gradNorms'].append(norm / loss_scale)
        record['lrs'].append(lr)
        record['clipped'].append(norm / loss_scale > t['clipGrad'])
        record['lossScales'].append(loss_scale)
    return record, master
