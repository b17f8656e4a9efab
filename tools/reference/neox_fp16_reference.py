#!/usr/bin/python3
"""Golden files for the trainer's fp16 mixed-precision mode, from fp16_training.py's emulation.

For each named case of cases.json, from the same initial parameters and tokens as neox_reference.py:
  * forward: one forward/backward of the forward batch at loss scale 2^12 from the binary16 initial
    parameters: the binary16 logits, the loss, and every parameter's unscaled float32 master gradient
    (f32(grad16 / 2^12); the division is exact);
  * train: the case's AdamW steps (schedule, clipping, gradient accumulation) with a loss scale of 2^12:
    per-step loss, grad norm, lr, loss scale, then the float32 master weights.
Writes <out dir>/<name>.json + .bin, float32 tensors (the golden values are binary16 or float32 values).

    /usr/bin/python3 tools/reference/neox_fp16_reference.py <inputs dir from export-init.ts> <cases.json> <out dir> NAME...
"""
import json
import os
import sys

import torch

from fp16_training import NeoXFp16Train, fp16_params, train_fp16
from neox_reference import Blob, annealing_lr, load_case, write_golden

LOSS_SCALE = 2.0 ** 12


def generate(case, inputs_dir, out_dir):
    name = case['name']
    # The same parameters and tokens as neox_reference.py uses for the case.
    meta, cfg, init, decay, fb_tokens, train_tokens = load_case(case, inputs_dir)
    t = case['train']
    seq = cfg['seqLength']

    blob = Blob()
    params = fp16_params(init)
    rows = case['batch'] * seq
    loss, logits = NeoXFp16Train(cfg, params).forward_backward(fb_tokens, LOSS_SCALE / rows)
    grads = {n: p.grad / LOSS_SCALE for n, p in params.items()}
    assert all(torch.isfinite(g).all() for g in grads.values())
    forward = {
        'batch': case['batch'],
        'tokens': blob.add(fb_tokens.numpy(), '<i4'),
        'lossScale': LOSS_SCALE,
        'loss': loss,
        'logits': blob.add(logits.numpy(), '<f4'),
        'grads': {n: blob.add(g.numpy(), '<f4') for n, g in grads.items()},
    }
    record, master = train_fp16(cfg, fp16_params(init), decay, train_tokens, t, annealing_lr, LOSS_SCALE)
    assert any(record['clipped']), f'{name}: choose a clipGrad that clips'
    training = {**t, 'tokens': blob.add(train_tokens.numpy(), '<i4'), **record,
                'master': {n: blob.add(p.numpy(), '<f4') for n, p in master.items()}}
    manifest = {
        'about': 'fp16 golden vectors from tools/reference/neox_fp16_reference.py (binary16 emulated in PyTorch float64); do not edit by hand.',
        'torch': torch.__version__,
        'name': name,
        'precision': 'fp16',
        'model': cfg,
        'seed': case['seed'],
        'initSha256': meta['initSha256'],
        'data': name + '.bin',
        'forward': forward,
        'train': training,
    }
    write_golden(out_dir, name, manifest, blob)
    print(f'{name} fp16: loss {loss:.9f}, train losses {record["losses"]}, clipped {record["clipped"]}, {blob.size} bytes')


if __name__ == '__main__':
    inputs_dir, cases_file, out_dir, *names = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    cases = {c['name']: c for c in json.load(open(cases_file))['cases']}
    for n in names:
        generate(cases[n], inputs_dir, out_dir)
