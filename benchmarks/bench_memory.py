"""Peak memory of recovery against the size of the set (issue 23): delt's waves under one budget beside the official
structure (a loop over batches of 100, one batch at a time, each written and freed before the next).

Each run is its own subprocess, so its peak resident memory (`ru_maxrss`; CUDA: max allocated) is its own. The work
is ImageNet-shaped: ResNet-18 (torchvision's, random weights with set BN statistics: memory does not depend on them)
at `--size` px, `--ipc` images per class, classes = images / ipc, noise initial images decoded per wave (`LazyInit`),
DELT's class-major batches of 100, `--iters` iterations (memory is reached in the first). Finished waves go to a sink
that converts them to uint8 as the set writer does and drops them (PNG encoding is time, not memory).

    python benchmarks/bench_memory.py [--sizes 100,400,1600 --budget 3GB --size 224 --iters 1 --out outputs/bench/memory.json]

It reports, per set size, the peak of each structure, the ratio, the seconds per iteration (the same work: throughput),
and the projection for ImageNet-1K at IPC 10 and 50: the waves' peak is flat, the whole-set structure's grows by the
state of every image (`STATE_COPIES` floats a pixel).
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

def one(a, n, mode):
    import torch
    from dataclasses import replace
    from delt.data import DatasetInfo
    from delt.models import create_model, bn_layers
    from delt.mosaic import lazy_noise_init
    from delt.recover import recover, RecoverConfig, STATE_COPIES
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    dev = 'cuda' if torch.cuda.is_available() and not a.cpu else 'cpu'
    k = n // a.ipc
    info = DatasetInfo('bench', a.size, 3, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), k)
    teacher = create_model('resnet18', k, 3, a.size).to(dev).eval()
    for m in bn_layers(teacher): m.running_mean.normal_(0, 0.1); m.running_var.uniform_(0.5, 2)
    class Drop:
        "A sink that converts each wave to uint8 (as the set writer does) and drops it."
        def __init__(self): self.got = []
        def done(self, key): return [(g[0], g[1], g[2]) for g in self.got]
        def put(self, key, batches, rows, images, init, hist, count):
            (images * 0.25 + 0.5).clamp(0, 1).mul(255).round().to(torch.uint8); self.got.append((batches, hist, count))
    cfg = RecoverConfig(mi=a.iters, ri=a.iters, batch_size=100, checkpoint_every=10**9, pass_images=a.pass_images,
                        memory_budget=a.budget)
    x0 = lazy_noise_init(k, a.ipc, info)
    if dev == 'cuda': torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    if mode == 'waves': r = recover(teacher, x0, info, cfg, progress=False, sink=Drop()); mem = r.memory
    else:                                    # the official structure: one batch of 100 at a time, decoded, run, written, freed
        per = 100 // a.ipc
        for c in range(0, k, per):
            sub = lazy_noise_init(min(per, k - c), a.ipc, info, seed=c)
            recover(teacher, sub, info, replace(cfg, memory_budget='1TB'), progress=False, sink=Drop())
        mem = None
    sec = (time.perf_counter() - t) / a.iters
    peak = torch.cuda.max_memory_allocated() if dev == 'cuda' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(mode=mode, images=n, device=dev, peak_bytes=peak, sec_per_iter=sec, memory=mem,
                state_bytes_per_image=STATE_COPIES * 4 * 3 * a.size * a.size)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', default='100,400,1600', help='set sizes (images) of the waves runs')
    ap.add_argument('--official-sizes', default='100,400', help='set sizes of the official-structure runs (its memory is flat by design)')
    ap.add_argument('--budget', default='3GB'); ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--ipc', type=int, default=10); ap.add_argument('--iters', type=int, default=1)
    ap.add_argument('--pass-images', type=int, default=0, help='images per pass (0: the device default, 16 on a CPU)')
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--cpu', action='store_true')
    ap.add_argument('--out', default='outputs/bench/memory.json')
    ap.add_argument('--one'); a = ap.parse_args()
    if a.one: mode, n = a.one.split(':'); print(json.dumps(one(a, int(n), mode))); return
    args = [f'--{k.replace("_", "-")}={v}' for k, v in vars(a).items() if k not in ('one', 'out', 'cpu')] + (['--cpu'] if a.cpu else [])
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    runs = []
    for mode, sizes in (('waves', a.sizes), ('official', a.official_sizes)):
        for n in map(int, sizes.split(',')):
            r = subprocess.run([sys.executable, __file__, *args, '--one', f'{mode}:{n}'], capture_output=True, text=True, env=env)
            if r.returncode: sys.exit(f'{mode} {n}: {r.stderr[-2000:]}')
            runs.append(json.loads(r.stdout.strip().splitlines()[-1])); d = runs[-1]
            print(f"{mode:8s} {n:5d} images: peak {d['peak_bytes'] / 1e9:.2f} GB, {d['sec_per_iter']:.1f} s/iteration"
                  + (f", {d['memory']['waves']} waves of pass {d['memory']['pass_images']}" if d['memory'] else ''), flush=True)
    w = [r for r in runs if r['mode'] == 'waves']; o = [r for r in runs if r['mode'] == 'official']
    flat = max(r['peak_bytes'] for r in w) / min(r['peak_bytes'] for r in w)
    ref = max(r['peak_bytes'] for r in o)
    per = w[0]['state_bytes_per_image']
    whole = lambda n: w[0]['peak_bytes'] + (n - w[0]['images']) * per        # holding every image's state at once
    res = dict(args=vars(a), runs=runs, waves_max_over_min=flat, waves_over_official=max(r['peak_bytes'] for r in w) / ref,
               throughput_waves_over_official={r['images']: q['sec_per_iter'] / r['sec_per_iter'] for r in w for q in o
                                               if q['images'] == r['images']},
               projection_gb={f'imagenet1k_ipc{ipc}': dict(waves=max(r['peak_bytes'] for r in w) / 1e9,
                                                           whole_set=whole(1000 * ipc) / 1e9) for ipc in (10, 50)})
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    print(json.dumps({k: v for k, v in res.items() if k not in ('runs', 'args')}, indent=1))

if __name__ == '__main__': main()
