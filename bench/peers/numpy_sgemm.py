"""numpy float32 matmul (BLAS sgemm) timings for bench/run.ts.

Reads JSON [[m, k, n], ...] and a repetition count on argv, prints JSON
[{"m":..,"k":..,"n":..,"best":s,"median":s}, ...] (seconds)."""
import json, sys, time
import numpy as np

shapes = json.loads(sys.argv[1])
reps = int(sys.argv[2])
out = []
rng = np.random.default_rng(0)
for m, k, n in shapes:
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    a @ b  # warm-up (thread pool start)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    times.sort()
    out.append({"m": m, "k": k, "n": n, "best": times[0], "median": times[len(times) // 2]})
print(json.dumps({"numpy": np.__version__, "results": out}))
