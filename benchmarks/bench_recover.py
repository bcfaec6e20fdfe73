"""Batched recovery vs the official structure (a loop over batches, one batch at a time) on the same work.

Modes, all the same `delt.recover.recover` and the same optimisation (SPEC §5: batches of `--batch` images, class-major):
- `loop`: the official structure — batch after batch, each a run of its own with the whole batch in one forward pass;
- `batched`: every batch of every iteration in one forward pass (what a GPU gets by default);
- `auto`: the default pass size of the device (`delt.recover.auto_pass_images`: everything on a GPU, 16 images on a CPU).
Each mode runs in its own subprocess so that its peak memory (max RSS on CPU, max allocated on CUDA) is its own, and
the modes alternate `--repeats` times (the fastest run of each counts) so that a busy machine slows them alike.
Writes seconds per iteration (all batches), the speed ratios over `loop` and peak memory to `--out`.

    python benchmarks/bench_recover.py [--classes 100 --ipc 10 --iters 10 --size 32 --channels 3 --ri 0 --out outputs/bench/recover.json]

`--ri` below `--iters` times an EarlyLate schedule (images join round by round).
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

def one(mode, a):
    import torch
    from dataclasses import replace
    from delt.models import create_model
    from delt.data import DatasetInfo
    from delt.recover import recover, RecoverConfig, batch_layout
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.manual_seed(0)
    info = DatasetInfo('bench', a.size, a.channels, (0.5,) * a.channels, (0.5,) * a.channels, a.classes)
    teacher = create_model('convnet3', a.classes, a.channels, a.size).to(dev).eval()
    x0 = torch.randn(a.classes, a.ipc, a.channels, a.size, a.size)
    cfg = RecoverConfig(mi=a.iters, ri=a.ri or a.iters, batch_size=a.batch, checkpoint_every=10**9)
    per = a.batch // a.ipc                                    # classes per batch (class-major, IPC dividing the batch)
    if mode == 'loop': jobs = [(x0[c:c + per], replace(cfg, pass_images=a.batch)) for c in range(0, a.classes, per)]
    else: jobs = [(x0, replace(cfg, pass_images=10**9 if mode == 'batched' else 0))]
    recover(teacher, jobs[0][0], info, replace(jobs[0][1], mi=2, ri=2), progress=False)    # warm-up
    if dev == 'cuda': torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for x, c in jobs: recover(teacher, x, info, c, progress=False)
    if dev == 'cuda': torch.cuda.synchronize()
    sec = (time.perf_counter() - t) / a.iters
    peak = torch.cuda.max_memory_allocated() / 2**20 if dev == 'cuda' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(mode=mode, device=dev, sec_per_iter=sec, batches=len(batch_layout(a.classes, a.ipc, 'class_major', a.batch)),
                peak_mb=peak, peak_kind='cuda max allocated' if dev == 'cuda' else 'max RSS')

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--classes', type=int, default=100); ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--iters', type=int, default=10); ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--channels', type=int, default=3); ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--ri', type=int, default=0, help='round iterations (0: = --iters, constant-iteration recovery)')
    ap.add_argument('--out', default='outputs/bench/recover.json')
    ap.add_argument('--repeats', type=int, default=3, help='alternating runs per mode; the fastest counts')
    ap.add_argument('--mode'); a = ap.parse_args()
    if a.batch % a.ipc: ap.error('--ipc must divide --batch (the loop mode runs whole classes per batch)')
    if a.mode: print(json.dumps(one(a.mode, a))); sys.exit()
    runs = {'loop': [], 'batched': [], 'auto': []}
    args = [f'--{k}={v}' for k, v in vars(a).items() if k not in ('mode', 'out', 'repeats')]
    for _ in range(a.repeats):           # alternate the modes so that load on a shared machine hits them alike
        for mode in runs:
            out = subprocess.run([sys.executable, __file__, '--mode', mode, *args], capture_output=True, text=True, check=True)
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    res = {m: min(r, key=lambda d: d['sec_per_iter']) | dict(all_sec_per_iter=[d['sec_per_iter'] for d in r]) for m, r in runs.items()}
    for m in ('batched', 'auto'): res[f'speedup_{m}_over_loop'] = res['loop']['sec_per_iter'] / res[m]['sec_per_iter']
    res['setup'] = vars(a) | dict(teacher='convnet3', torch_threads=os.environ.get('OMP_NUM_THREADS', 'default'))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
