"""numpy float32 matmul GFLOP/s (OpenBLAS), median of timed runs after a warm-up.
usage: numpy_gemm.py TIME_MS op:m:n:k ... (op nn | nt | tn, the product as the trainer calls it)"""
import json, sys, time
import numpy as np

def rate(op, m, n, k, time_ms):
    rng = np.random.default_rng(0)
    a = rng.random((k, m) if op == 'tn' else (m, k), dtype=np.float32)
    b = rng.random((n, k) if op == 'nt' else (k, n), dtype=np.float32)
    f = {'nn': lambda: a @ b, 'nt': lambda: a @ b.T, 'tn': lambda: a.T @ b}[op]
    f()
    samples = []
    t_end = time.perf_counter() + time_ms / 1e3
    while len(samples) < 3 or time.perf_counter() < t_end:
        t = time.perf_counter(); f(); samples.append(time.perf_counter() - t)
    return 2.0 * m * n * k / float(np.median(samples)) / 1e9

time_ms = float(sys.argv[1])
out = {}
for spec in sys.argv[2:]:
    op, m, n, k = spec.split(':')
    out[spec] = rate(op, int(m), int(n), int(k), time_ms)
print(json.dumps({'gflops': out, 'numpy': np.__version__}))
