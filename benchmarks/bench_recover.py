"""Batched recovery (all classes in one forward pass) vs a per-class loop (class_chunk=1) vs the default (class_chunk=0:
`delt.recover.auto_chunk`, all classes on a GPU, ~16 images per pass on a CPU) on the same work.

All modes are the same `delt.recover.recover` with different `class_chunk`, so they do identical optimisation;
each mode runs in its own subprocess so that its peak memory (max RSS on CPU, max allocated on CUDA) is its own,
and the modes alternate `--repeats` times (the fastest run of each counts) so that a busy machine slows both alike.
Writes outputs/bench/recover.json with seconds per iteration, the speed ratio and peak memory.

    python benchmarks/bench_recover.py [--classes 10 --ipc 10 --iters 30 --size 28 --ri 30 --out outputs/bench/recover.json]

`--ri` below `--iters` times an EarlyLate schedule (images join round by round, so the images per class grow).
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

def one(mode, classes, ipc, iters, size, ri):
    import torch
    from delt.models import create_model
    from delt.data import DatasetInfo
    from delt.recover import recover, RecoverConfig
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.manual_seed(0)
    info = DatasetInfo('bench', size, 1, (0.5,), (0.5,), classes)
    teacher = create_model('convnet3', classes, 1, size).to(dev).eval()
    x0 = torch.randn(classes, ipc, 1, size, size)
    cfg = RecoverConfig(mi=iters, ri=ri or iters, class_chunk=dict(batched=classes, per_class=1, auto=0)[mode])
    recover(teacher, x0, info, RecoverConfig(mi=2, ri=2, class_chunk=cfg.class_chunk), progress=False)  # warm-up
    if dev == 'cuda': torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter(); recover(teacher, x0, info, cfg, progress=False)
    if dev == 'cuda': torch.cuda.synchronize()
    sec = (time.perf_counter() - t) / iters
    peak = torch.cuda.max_memory_allocated() / 2**20 if dev == 'cuda' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(mode=mode, device=dev, sec_per_iter=sec, peak_mb=peak, peak_kind='cuda max allocated' if dev == 'cuda' else 'max RSS')

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--classes', type=int, default=10); ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--iters', type=int, default=30); ap.add_argument('--size', type=int, default=28)
    ap.add_argument('--ri', type=int, default=0, help='round iterations (0: = --iters, constant-iteration recovery)')
    ap.add_argument('--out', default='outputs/bench/recover.json')
    ap.add_argument('--repeats', type=int, default=3, help='alternating runs per mode; the fastest counts')
    ap.add_argument('--mode'); a = ap.parse_args()
    if a.mode: print(json.dumps(one(a.mode, a.classes, a.ipc, a.iters, a.size, a.ri))); sys.exit()
    runs = {'batched': [], 'per_class': [], 'auto': []}
    for _ in range(a.repeats):           # alternate the modes so that load on a shared machine hits both alike
        for mode in runs:
            out = subprocess.run([sys.executable, __file__, '--mode', mode, '--classes', str(a.classes), '--ipc', str(a.ipc),
                                  '--iters', str(a.iters), '--size', str(a.size), '--ri', str(a.ri)], capture_output=True, text=True, check=True)
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    res = {m: min(r, key=lambda d: d['sec_per_iter']) | dict(all_sec_per_iter=[d['sec_per_iter'] for d in r]) for m, r in runs.items()}
    res['speedup_batched_over_per_class'] = res['per_class']['sec_per_iter'] / res['batched']['sec_per_iter']
    res['speedup_auto_over_per_class'] = res['per_class']['sec_per_iter'] / res['auto']['sec_per_iter']
    res['speedup_auto_over_batched'] = res['batched']['sec_per_iter'] / res['auto']['sec_per_iter']
    res['setup'] = vars(a) | dict(teacher='convnet3', torch_threads=os.environ.get('OMP_NUM_THREADS', 'default'))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
