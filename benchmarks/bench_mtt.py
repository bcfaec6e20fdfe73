"""MTT distillation speed and memory against the unroll length (a benchmark, not a test): iterations per second and
peak memory of `delt.trajectory_matching.mtt_step` for several `syn_steps`, on Fashion-MNIST with ConvNet-3 (instance norm).

    .venv/bin/python benchmarks/bench_mtt.py [--syn-steps 5 10 20 40] [--ipc 10] [--width 128] [--batch-syn N]
                                             [--iterations 3] [--device cpu|cuda] [--out outputs/bench/mtt.json]

Speed and memory do not depend on what the expert weights are, so the "buffer" is one expert whose epochs are a fresh
network plus noise (no expert training). Every setting runs in its own process: one warm-up iteration, then
`iterations` timed ones. Peak memory: the peak over the warm-up and timed iterations, and what they add above the state before them
(`added_mb`: images, network and data loaded) — on CUDA the allocator's peak (`torch.cuda.max_memory_allocated`), on
the CPU the process's peak resident set (VmHWM, reset through /proc/self/clear_refs; the whole process's peak where
that is not allowed, `peak_reset` false)."""
import argparse, json, platform, subprocess, sys, time
from pathlib import Path
import torch, torch.nn as nn
from delt.core import *
from delt.data import get_dataset
from delt.stages import fresh_net, random_init
from delt.trajectory_matching import MTTConfig, mtt_step, flat_params

class NoiseExpert:
    "A stand-in buffer: one expert whose epoch t is θ₀ + t·noise."
    def __init__(self, model, device):
        self.model = model.to(device); th = flat_params(model).to(device)
        self.noise = 0.01 * torch.randn(th.shape, generator=torch.Generator().manual_seed(0)).to(device); self.th = th
    def __len__(self): return 1
    def rows(self, k, ts, device='cpu'): return [self.th + t * self.noise for t in ts]

def _rss_kb(field):
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith(field): return int(line.split()[1])
    return 0

def _reset_cpu_peak():
    try: Path('/proc/self/clear_refs').write_text('5'); return True
    except OSError: return False

def one(syn_steps, ipc, width, batch_syn, iterations, device):
    "Measure one setting in this process; returns a dict."
    dev = torch.device(device); torch.manual_seed(0)
    data = get_dataset('fashion_mnist', 'train')
    x0, _ = random_init(data, ipc, 0)
    buf = NoiseExpert(fresh_net('convnet3_in', data.info, 10, 0, width), dev)
    cfg = MTTConfig(syn_steps=syn_steps, expert_epochs=2, max_start_epoch=1, batch_syn=batch_syn, lr_img=100)
    syn = nn.Parameter(x0.to(dev)); lr = nn.Parameter(torch.tensor(0.01, device=dev))
    oi, ol = torch.optim.SGD([syn], lr=cfg.lr_img, momentum=0.5), torch.optim.SGD([lr], lr=cfg.lr_lr, momentum=0.5)
    gen = torch.Generator().manual_seed(0)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    if dev.type == 'cuda':
        base = torch.cuda.memory_allocated(); torch.cuda.reset_peak_memory_stats()
    else: base, reset = _rss_kb('VmRSS') * 1024, _reset_cpu_peak()
    mtt_step(buf, syn, lr, None, cfg, oi, ol, gen); sync()                       # warm-up (its peak counts: freed memory is reused)
    t = time.perf_counter()
    for _ in range(iterations): mtt_step(buf, syn, lr, None, cfg, oi, ol, gen)
    sync(); secs = time.perf_counter() - t
    peak = torch.cuda.max_memory_allocated() if dev.type == 'cuda' else _rss_kb('VmHWM') * 1024
    return dict(syn_steps=syn_steps, it_per_s=round(iterations / secs, 4), s_per_it=round(secs / iterations, 3),
                peak_mb=round(peak / 2**20, 1), added_mb=round((peak - base) / 2**20, 1),
                **({} if dev.type == 'cuda' else dict(peak_reset=reset)))

def main(syn_steps=(5, 10, 20, 40), ipc=10, width=128, batch_syn=None, iterations=3, device='cpu', out='outputs/bench/mtt.json'):
    rows = []
    for n in syn_steps:
        cmd = [sys.executable, __file__, '--single', '--syn-steps', str(n), '--ipc', str(ipc), '--width', str(width),
               '--iterations', str(iterations), '--device', device] + (['--batch-syn', str(batch_syn)] if batch_syn else [])
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(r.stdout.strip().splitlines()[-1])); print(rows[-1], flush=True)
    a = [r for r in rows if r['syn_steps'] in (min(syn_steps), max(syn_steps))]
    slope = (a[-1]['added_mb'] - a[0]['added_mb']) / max(1, a[-1]['syn_steps'] - a[0]['syn_steps']) if len(a) == 2 else None
    res = dict(device=device if device == 'cpu' else torch.cuda.get_device_name(), threads=torch.get_num_threads(),
               cpu=platform.processor() or platform.machine(), torch=torch.__version__, arch='convnet3_in', width=width,
               dataset='fashion_mnist', ipc=ipc, images=10 * ipc, batch_syn=batch_syn or 10 * ipc, timed_iterations=iterations,
               rows=rows, added_mb_per_step=None if slope is None else round(slope, 2))
    Path(out).parent.mkdir(parents=True, exist_ok=True); save_json(res, out)
    print(json.dumps(res, indent=1))
    return res

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--syn-steps', type=int, nargs='+', default=[5, 10, 20, 40]); ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--width', type=int, default=128); ap.add_argument('--batch-syn', type=int, default=None)
    ap.add_argument('--iterations', type=int, default=3); ap.add_argument('--device', default='cpu')
    ap.add_argument('--out', default='outputs/bench/mtt.json'); ap.add_argument('--single', action='store_true')
    a = ap.parse_args()
    if a.single: print(json.dumps(one(a.syn_steps[0], a.ipc, a.width, a.batch_syn, a.iterations, a.device)))
    else: main(a.syn_steps, a.ipc, a.width, a.batch_syn, a.iterations, a.device, a.out)
