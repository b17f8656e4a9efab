#!/usr/bin/python3
"""Independent float64 reference for the neox-sim trainer: a hand-written GPT-NeoX in PyTorch.

It mirrors HF transformers' modeling_gpt_neox.py eager path (use_parallel_residual, per-head fused QKV,
rotate_half rotary on the first rotary_pct of each head, causal softmax, untied embed_out) with these
deliberate choices, each to match the GPT-NeoX-20B run rather than HF defaults:
  * GELU: the 20B run's fused bias_gelu tanh form with its constants 0.79788456 and 0.044715
    (HF "gelu_fast" writes 0.7978845608); the exact erf form when the config asks for gelu-erf.
  * Rotary cos/sin tables built in float64 (HF builds them in float32 even for float64 models).
  * Sequential residual (parallelResidual false) as x + attn(ln1(x)), then h + mlp(ln2(h)).
  * Loss: mean cross entropy over every (sequence, position) of the padded-vocab logits.
  * Optimizer: FusedAdam ADAM_MODE_1 AdamW (decoupled weight decay, bias correction), no decay on
    biases and LayerNorm parameters; DeepSpeed's unscale_and_clip_grads clipping formula;
    gpt-neox's 2022 AnnealingLR (megatron/learning_rates.py) evaluated at 0, 1, 2, ... for the updates.
Gradients come from torch autograd, not from hand-written backward passes.
fp16_emulation.py adds the fp16 mixed-precision forward pass, emulated in float32 with binary16 rounding
at the spec's cast points.

Run with Debian's torch (apt-get install python3-torch), i.e. /usr/bin/python3:
    /usr/bin/python3 tools/reference/neox_reference.py <inputs dir from export-init.ts> <cases.json> <out dir>
"""
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from fp16_emulation import NeoXFp16

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)


def rotary_tables(positions, rot_dims, base):
    inv_freq = 1.0 / (base ** (torch.arange(0, rot_dims, 2, dtype=torch.float64) / rot_dims))
    t = torch.arange(positions, dtype=torch.float64)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def gelu(x, kind):
    if kind == 'gelu-tanh':
        return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1.0 + 0.044715 * x * x)))
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


class NeoX:
    def __init__(self, cfg, params):
        self.cfg = cfg
        self.p = params
        self.h = cfg['hiddenSize']
        self.nh = cfg['numHeads']
        self.hd = self.h // self.nh
        self.rot = int(self.hd * cfg['rotaryPct'])
        self.eps = cfg['layernormEpsilon']
        self.cos, self.sin = rotary_tables(cfg['maxPositionEmbeddings'], self.rot, cfg['rotaryEmbBase'])

    def ln(self, x, name):
        return F.layer_norm(x, (self.h,), self.p[name + '.weight'], self.p[name + '.bias'], self.eps)

    def linear(self, x, name, bias=True):
        return F.linear(x, self.p[name + '.weight'], self.p[name + '.bias'] if bias else None)

    def attention(self, x, pre):
        B, T, _ = x.shape
        qkv = self.linear(x, pre + 'attention.query_key_value').view(B, T, self.nh, 3 * self.hd)
        q, k, v = (qkv[..., i * self.hd:(i + 1) * self.hd].permute(0, 2, 1, 3) for i in range(3))
        cos, sin = self.cos[:T], self.sin[:T]

        def rope(z):
            zr, zp = z[..., :self.rot], z[..., self.rot:]
            return torch.cat((zr * cos + rotate_half(zr) * sin, zp), dim=-1)

        q, k = rope(q), rope(k)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (self.hd ** -0.5)
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, T, self.h)
        return self.linear(ctx, pre + 'attention.dense')

    def mlp(self, x, pre):
        return self.linear(gelu(self.linear(x, pre + 'mlp.dense_h_to_4h'), self.cfg['activation']), pre + 'mlp.dense_4h_to_h')

    def logits(self, ids):
        x = self.p['gpt_neox.embed_in.weight'][ids]
        for i in range(self.cfg['numLayers']):
            pre = f'gpt_neox.layers.{i}.'
            if self.cfg['parallelResidual']:
                attn = self.attention(self.ln(x, pre + 'input_layernorm'), pre)
                mlp = self.mlp(self.ln(x, pre + 'post_attention_layernorm'), pre)
                x = mlp + attn + x
            else:
                x = self.attention(self.ln(x, pre + 'input_layernorm'), pre) + x
                x = self.mlp(self.ln(x, pre + 'post_attention_layernorm'), pre) + x
        x = self.ln(x, 'gpt_neox.final_layer_norm')
        return self.linear(x, 'embed_out', bias=False)

    def loss(self, tokens):
        """Mean next-token cross entropy of tokens [B, T+1]; returns (loss, logits)."""
        logits = self.logits(tokens[:, :-1])
        labels = tokens[:, 1:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)), logits


def annealing_lr(s, num_iters):
    """gpt-neox 2022 AnnealingLR.get_lr (megatron/learning_rates.py @c560814b), quirks included."""
    n = min(num_iters, s['decayIters'] - s['warmupIters'])
    if s['warmupIters'] > 0 and num_iters <= s['warmupIters']:
        return float(s['lr']) * n / s['warmupIters']
    n = n - s['warmupIters']
    lr = s['lr'] / 2.0 * (math.cos(math.pi * n / s['decayIters']) + 1) if s['style'] == 'cosine' else s['lr']
    return max(lr, s['minLr'])


def train(cfg, params, decay, tokens, t):
    """t['steps'] AdamW steps, each over t['gradientAccumulationSteps'] micro-batches."""
    o = t['optimizer']
    names = list(params)
    state = {n: (torch.zeros_like(params[n]), torch.zeros_like(params[n])) for n in names}
    # An independent implementation of the same update, to check ours: torch.optim.AdamW.
    shadow = {n: params[n].detach().clone().requires_grad_(True) for n in names}
    groups = [{'params': [shadow[n] for n in names if decay[n]], 'weight_decay': o['weightDecay']},
              {'params': [shadow[n] for n in names if not decay[n]], 'weight_decay': 0.0}]
    torch_adamw = torch.optim.AdamW(groups, lr=1.0, betas=(o['beta1'], o['beta2']), eps=o['eps'])
    gas = t['gradientAccumulationSteps']
    mbs = t['microBatchSize']
    record = {'losses': [], 'gradNorms': [], 'lrs': [], 'clipped': []}
    for step in range(t['steps']):
        for p in params.values():
            p.grad = None
        losses = []
        for g in range(gas):
            loss, _ = NeoX(cfg, params).loss(tokens[step, g * mbs:(g + 1) * mbs])
            (loss / gas).backward()
            losses.append(loss.item())
        norm = math.sqrt(sum(float((params[n].grad ** 2).sum()) for n in names))
        clip = (norm + 1e-6) / t['clipGrad'] if t['clipGrad'] > 0 else 0.0
        factor = 1.0 / clip if clip > 1 else 1.0
        lr = annealing_lr(t['schedule'], step)
        with torch.no_grad():
            k = step + 1
            bc1 = 1 - o['beta1'] ** k
            bc2 = 1 - o['beta2'] ** k
            for n in names:
                gr = params[n].grad * factor
                m, v = state[n]
                m.mul_(o['beta1']).add_((1 - o['beta1']) * gr)
                v.mul_(o['beta2']).add_((1 - o['beta2']) * gr * gr)
                wd = o['weightDecay'] if decay[n] else 0.0
                update = (m / bc1) / (torch.sqrt(v / bc2) + o['eps']) + wd * params[n]
                params[n].sub_(lr * update)
                shadow[n].grad = gr.clone()
            for group in torch_adamw.param_groups:
                group['lr'] = lr
            torch_adamw.step()
        for n in names:
            diff = (shadow[n] - params[n]).abs().max().item()
            scale = max(params[n].abs().max().item(), 1e-300)
            assert diff <= 1e-13 * scale, f'torch.optim.AdamW disagrees on {n}: {diff}'
        record['losses'].append(sum(losses) / gas)
        record['gradNorms'].append(norm)
        record['lrs'].append(lr)
        record['clipped'].append(clip > 1)
    return record


class Blob:
    """Arrays appended to one little-endian binary file, each 8-byte aligned; the manifest names them."""

    def __init__(self):
        self.parts = []
        self.size = 0

    def add(self, array, dtype):
        a = np.ascontiguousarray(array, dtype=dtype)
        entry = {'offset': self.size, 'dtype': {'<f8': 'f64', '<f4': 'f32', '<i4': 'i32'}[dtype], 'shape': list(a.shape)}
        data = a.tobytes()
        data += b'\0' * (-len(data) % 8)
        self.parts.append(data)
        self.size += len(data)
        return entry


def load_case(case, inputs_dir):
    """A case's initial parameters (written by export-init.ts, checked by their sha256), its per-tensor weight
    decay flags, and its tokens: the forward/backward batch, then every training step's, from dataSeed."""
    name = case['name']
    meta = json.load(open(os.path.join(inputs_dir, name + '.init.json')))
    raw = open(os.path.join(inputs_dir, name + '.init.bin'), 'rb').read()
    assert hashlib.sha256(raw).hexdigest() == meta['initSha256']
    cfg = meta['model']
    flat = np.frombuffer(raw, dtype='<f8')
    init, decay, at = {}, {}, 0
    for p in meta['params']:
        size = int(np.prod(p['shape']))
        init[p['name']] = torch.tensor(flat[at:at + size].reshape(p['shape']))
        decay[p['name']] = p['decay']
        at += size
    assert at == flat.size

    rng = np.random.RandomState(case['dataSeed'])
    seq = cfg['seqLength']
    fb_tokens = torch.tensor(rng.randint(0, cfg['vocabSize'], size=(case['batch'], seq + 1)), dtype=torch.long)
    t = case['train']
    train_tokens = torch.tensor(rng.randint(0, cfg['vocabSize'], size=(t['steps'], t['gradientAccumulationSteps'] * t['microBatchSize'], seq + 1)), dtype=torch.long)
    return meta, cfg, init, decay, fb_tokens, train_tokens


def write_golden(out_dir, name, manifest, blob):
    """A golden case: its tensors in NAME.bin, the manifest that locates them in NAME.json."""
    with open(os.path.join(out_dir, name + '.bin'), 'wb') as f:
        f.write(b''.join(blob.parts))
    with open(os.path.join(out_dir, name + '.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')


def generate(case, inputs_dir, out_dir):
    name = case['name']
    meta, cfg, init, decay, fb_tokens, train_tokens = load_case(case, inputs_dir)
    t = case['train']
    params = {n: p.requires_grad_(True) for n, p in init.items()}

    blob = Blob()
    loss, logits = NeoX(cfg, params).loss(fb_tokens)
    loss.backward()
    forward = {
        'batch': case['batch'],
        'tokens': blob.add(fb_tokens.numpy(), '<i4'),
        'loss': loss.item(),
        'logits': blob.add(logits.detach().numpy(), '<f8'),
        'grads': {n: blob.add(p.grad.numpy(), '<f8') for n, p in params.items()},
    }
    record = train(cfg, params, decay, train_tokens, t)
    assert any(record['clipped']), f'{name}: choose a clipGrad that clips'
    training = {**t, 'tokens': blob.add(train_tokens.numpy(), '<i4'), **record,
                'params': {n: blob.add(p.detach().numpy(), '<f8') for n, p in params.items()}}
    # The fp16 forward runs from the trained parameters: unlike the initial ones, their biases are not 0
    # and their LayerNorm weights not 1, so every cast point around a bias or a norm is exercised.
    loss16, logits16 = NeoXFp16(cfg, {n: p.detach().numpy() for n, p in params.items()}).loss(fb_tokens)
    forward['fp16'] = {'loss': loss16.item(), 'logits': blob.add(logits16.numpy(), '<f4')}
    manifest = {
        'about': 'Golden vectors from tools/reference/neox_reference.py (PyTorch float64); do not edit by hand.',
        'torch': torch.__version__,
        'name': name,
        'model': cfg,
        'seed': case['seed'],
        'initSha256': meta['initSha256'],
        'data': name + '.bin',
        'forward': forward,
        'train': training,
    }
    write_golden(out_dir, name, manifest, blob)
    print(f'{name}: loss {loss.item():.12f}, train losses {record["losses"]}, clipped {record["clipped"]}, {blob.size} bytes')


if __name__ == '__main__':
    inputs_dir, cases_file, out_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    for c in json.load(open(cases_file))['cases']:
        generate(c, inputs_dir, out_dir)
