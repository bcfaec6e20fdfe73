"""Recovery on 1 and on N processes (torchrun, gloo, one thread each), the same work: how much faster the job gets.

The work is one `delt.recover.recover` run — `--classes` × `--ipc` images in batches of `--batch`, `--iters` iterations
with EarlyLate rounds every `--ri` — on a convnet3 teacher (random weights: the cost does not depend on them). Each
process times its `recover` call between two barriers (start-up, imports and data excluded) and the job's time is the
slowest rank's. 1-process and N-process jobs alternate `--repeats` times so that load on a shared machine hits both
alike; the ratio of the medians is the speed-up. Each rank's CPU time is measured too: the busiest rank's CPU seconds
against one process's say what the split gives when every process has a core of its own. The images are compared too: the N-process job must give the
1-process job's images bit for bit. Writes everything to `--out`.

    python benchmarks/bench_distributed.py [--nproc 2 --classes 10 --ipc 20 --batch 10 --iters 40 --ri 10 --size 28 --repeats 3]
"""
import argparse, hashlib, json, os, statistics, subprocess, sys, time
from pathlib import Path

def worker(a):
    "One rank's part: time recover, report seconds and a hash of the images (rank 0)."
    import torch
    from delt.distributed import setup, barrier, rank, world, gather
    from delt.models import create_model
    from delt.data import DatasetInfo
    from delt.recover import recover, RecoverConfig
    setup('cpu'); torch.manual_seed(0)
    info = DatasetInfo('bench', a.size, 1, (0.5,), (0.5,), a.classes)
    teacher = create_model('convnet3', a.classes, 1, a.size).eval()
    x0 = torch.randn(a.classes, a.ipc, 1, a.size, a.size)
    cfg = RecoverConfig(mi=a.iters, ri=a.ri, batch_size=a.batch, pass_images=16, checkpoint_every=10**9)
    barrier(); t, c = time.perf_counter(), time.process_time()
    res = recover(teacher, x0, info, cfg, progress=False)
    cpu = gather(time.process_time() - c); barrier(); sec = max(gather(time.perf_counter() - t))
    if rank() == 0:
        print(json.dumps(dict(world=world(), seconds=sec, cpu_seconds=cpu, shards=res.shards,
                              images=hashlib.sha256(res.images.numpy().tobytes()).hexdigest()[:16])))

def job(n, a):
    "Run the benchmark on `n` processes under torchrun; rank 0's report."
    args = [f'--{k}={v}' for k, v in vars(a).items() if k not in ('out', 'repeats', 'worker', 'nproc')]
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    r = subprocess.run([str(Path(sys.executable).parent/'torchrun'), '--standalone', '--nproc-per-node', str(n), __file__, '--worker', *args],
                       capture_output=True, text=True, env=env, check=True)
    return json.loads([l for l in r.stdout.splitlines() if l.startswith('{')][-1])

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--nproc', type=int, default=2); ap.add_argument('--classes', type=int, default=10)
    ap.add_argument('--ipc', type=int, default=20); ap.add_argument('--batch', type=int, default=10)
    ap.add_argument('--iters', type=int, default=40); ap.add_argument('--ri', type=int, default=10)
    ap.add_argument('--size', type=int, default=28); ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--out', default='outputs/bench/distributed.json'); ap.add_argument('--worker', action='store_true')
    a = ap.parse_args()
    if a.worker: worker(a); sys.exit()
    runs = {1: [], a.nproc: []}
    for i in range(a.repeats):
        for n in runs:
            runs[n].append(job(n, a)); r = runs[n][-1]
            print(f'repeat {i + 1}: {n} process(es): {r["seconds"]:.2f} s wall, CPU seconds per rank {[round(c, 2) for c in r["cpu_seconds"]]}', flush=True)
    med = {n: statistics.median(r['seconds'] for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(max(r['cpu_seconds']) for r in rs) for n, rs in runs.items()}   # the busiest rank's own work
    same = len({r['images'] for rs in runs.values() for r in rs}) == 1
    res = dict(settings={k: v for k, v in vars(a).items() if k != 'worker'}, seconds={n: [r['seconds'] for r in rs] for n, rs in runs.items()},
               median_seconds=med, speedup=med[1] / med[a.nproc], efficiency=med[1] / med[a.nproc] / a.nproc,
               cpu_seconds={n: [r['cpu_seconds'] for r in rs] for n, rs in runs.items()}, median_busiest_rank_cpu_seconds=cpu,
               work_split_speedup=cpu[1] / cpu[a.nproc],
               shards=runs[a.nproc][0]['shards'], same_images=same, cpus=os.cpu_count(), load_avg=os.getloadavg())
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    print(f"1 process {med[1]:.2f} s, {a.nproc} processes {med[a.nproc]:.2f} s: speed-up {res['speedup']:.2f}× "
          f"(efficiency {100 * res['efficiency']:.0f} %); CPU seconds of the busiest rank {cpu[1]:.2f} vs {cpu[a.nproc]:.2f}: "
          f"{res['work_split_speedup']:.2f}× with a free core per process; images identical: {same}; "
          f"load average {res['load_avg'][0]:.1f} on {os.cpu_count()} CPUs -> {a.out}")
