"""Causal attention forward + backward in numpy float32 (batched matmuls on OpenBLAS, masked softmax), the
way a numpy implementation does it: full T×T products, the upper triangle masked. Median seconds per call.
usage: numpy_attention.py TIME_MS B:H:T:D ..."""
import json, sys, time
import numpy as np

def fwd_bwd(q, k, v, do, scale, mask):
    s = (q @ k.transpose(0, 1, 3, 2)) * scale
    s = np.where(mask, s, np.float32(-np.inf))
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    o = p @ v
    dv = p.transpose(0, 1, 3, 2) @ do
    dp = do @ v.transpose(0, 1, 3, 2)
    ds = p * (dp - (p * dp).sum(axis=-1, keepdims=True)) * scale
    dq = ds @ k
    dk = ds.transpose(0, 1, 3, 2) @ q
    return o, dq, dk, dv

def seconds(b, h, t, d, time_ms):
    rng = np.random.default_rng(0)
    q, k, v, do = (rng.standard_normal((b, h, t, d), dtype=np.float32) for _ in range(4))
    mask = np.tril(np.ones((t, t), dtype=bool))
    scale = np.float32(1 / np.sqrt(d))
    fwd_bwd(q, k, v, do, scale, mask)
    samples = []
    t_end = time.perf_counter() + time_ms / 1e3
    while len(samples) < 3 or time.perf_counter() < t_end:
        t0 = time.perf_counter(); fwd_bwd(q, k, v, do, scale, mask); samples.append(time.perf_counter() - t0)
    return float(np.median(samples))

time_ms = float(sys.argv[1])
print(json.dumps({'seconds': {spec: seconds(*map(int, spec.split(':')), time_ms) for spec in sys.argv[2:]}, 'numpy': np.__version__}))
