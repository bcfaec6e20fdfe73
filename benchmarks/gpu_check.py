"""The GPU check (issue 23 item 5): the first thing to run whenever a GPU is available; about 5 minutes on one card.

    benchmarks/gpu_check.sh             # on the GPU machine: JSON to outputs/bench/gpu_check.json
    benchmarks/gpu_check.sh --dry-run   # the same steps on the CPU at tiny size (seconds): checks the script itself

Steps (each times its own work after a warm-up and records the card's peak allocated memory):
1. `recover_32`: recovery at 32 px (CIFAR-shaped: 100 classes, IPC 50, ConvNet-3 with BN), delt's waves (the budget
   and pass size it picks) against the official structure: a loop over batches of 100, one at a time, fp32.
2. `recover_224`: the same at 224 px with ResNet-18 (ImageNet-shaped, a few batches of 100).
3. `student`: student-training throughput (ResNet-18 with the small-image stem, 32 px, batch 256, SGD): images/s.
4. `end_to_end`: delt-squeeze (1 000 Fashion-MNIST images, one epoch), delt-distill (IPC 2) and delt-evaluate on CUDA.
The images of waves and of the loop are compared (the same images up to float rounding: max |difference|).
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from dataclasses import replace
from pathlib import Path
import torch

def _sync(dev):
    if dev == 'cuda': torch.cuda.synchronize()

def _peak(dev):
    return torch.cuda.max_memory_allocated() if dev == 'cuda' else None

def _reset(dev):
    if dev == 'cuda': torch.cuda.synchronize(); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()

def recover_step(dev, size, arch, classes, ipc, iters, budget=None):
    "Waves (delt's default pass size and budget) against a loop over batches of 100 (one pass each, fp32) on the same work."
    from delt.data import DatasetInfo
    from delt.models import create_model, bn_layers
    from delt.mosaic import lazy_noise_init
    from delt.recover import recover, RecoverConfig
    torch.manual_seed(0)
    info = DatasetInfo('check', size, 3, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), classes)
    teacher = create_model(arch, classes, 3, size).to(dev).eval()
    for m in bn_layers(teacher): m.running_mean.normal_(0, 0.1); m.running_var.uniform_(0.5, 2)
    x0 = lazy_noise_init(classes, ipc, info).full()
    cfg = RecoverConfig(mi=iters, ri=iters, batch_size=100, checkpoint_every=10**9, memory_budget=budget)
    per = 100 // ipc if ipc < 100 else 1
    recover(teacher, x0[:per], info, replace(cfg, mi=1, ri=1), progress=False)                    # warm-up
    out = {}
    for mode in ('loop', 'waves'):
        _reset(dev); t = time.perf_counter()
        if mode == 'waves': r = recover(teacher, x0, info, cfg, progress=False); imgs, mem = r.images, r.memory
        else:
            imgs = torch.cat([recover(teacher, x0[c:c + per], info, replace(cfg, pass_images=100), progress=False).images
                              for c in range(0, classes, per)]); mem = None
        _sync(dev)
        out[mode] = dict(sec_per_iter=(time.perf_counter() - t) / iters, peak_bytes=_peak(dev), memory=mem)
        out[f'{mode}_images'] = imgs
    diff = (out.pop('waves_images') - out.pop('loop_images')).abs().max().item()
    return dict(size=size, arch=arch, classes=classes, ipc=ipc, iters=iters, images=classes * ipc, **out,
                speedup_waves_over_loop=out['loop']['sec_per_iter'] / out['waves']['sec_per_iter'], max_abs_image_difference=diff)

def student_step(dev, size, steps, batch):
    "Images per second of SGD on a ResNet-18 student (small-image stem) at `size` px."
    from delt.models import create_model
    torch.manual_seed(0)
    m = create_model('resnet18', 100, 3, size).to(dev).train()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(batch, 3, size, size, device=dev), torch.randint(0, 100, (batch,), device=dev)
    def step():
        opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
    step(); _reset(dev); t = time.perf_counter()
    for _ in range(steps): step()
    _sync(dev); s = time.perf_counter() - t
    return dict(size=size, batch=batch, steps=steps, images_per_sec=steps * batch / s, peak_bytes=_peak(dev))

def end_to_end(dev, tmp, n_train, ipc, mi, epochs, n_test):
    "The three commands on `dev`, as a user types them; their exit codes, seconds and the result line."
    bin_ = Path(sys.executable).parent
    env = dict(os.environ, DELT_CACHE=str(tmp/'cache'))
    cmds = {'squeeze': ['delt-squeeze', '--n-train', n_train, '--teacher-epochs', 1, '--teacher-batch-size', 50, '--out', tmp/'t'],
            'distill': ['delt-distill', '--teacher', tmp/'t', '--ipc', ipc, '--mi', mi, '--ri', max(1, mi // 2), '--mipc', 20,
                        '--out', tmp/'set'],
            'evaluate': ['delt-evaluate', '--images', tmp/'set', '--teacher', tmp/'t', '--eval-epochs', epochs, '--seeds', 1,
                         '--n-test', n_test, '--no-context', '--out', tmp/'eval', *(['--no-random'] if dev == 'cpu' else [])]}
    res = {}
    for k, c in cmds.items():
        t = time.perf_counter()
        r = subprocess.run([str(bin_/c[0]), *map(str, c[1:]), '--device', dev, '--no-progress'], capture_output=True, text=True, env=env)
        res[k] = dict(rc=r.returncode, seconds=time.perf_counter() - t, last_line=(r.stdout.strip().splitlines() or [''])[-1],
                      error=r.stderr[-1500:] if r.returncode else None)
        if r.returncode: break
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dry-run', action='store_true', help='the same steps on the CPU at tiny size: checks the script')
    ap.add_argument('--out', default='outputs/bench/gpu_check.json')
    a = ap.parse_args()
    dry = a.dry_run
    if not dry and not torch.cuda.is_available(): sys.exit('gpu_check: no CUDA device here; run it on a GPU, or pass --dry-run to check it on the CPU')
    dev = 'cpu' if dry else 'cuda'
    if dry: torch.set_num_threads(1)
    card = 'cpu (dry run)' if dry else torch.cuda.get_device_name()
    res = dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), card=card, dry_run=dry, torch=torch.__version__,
               host=platform.node(), steps={})
    steps = [('recover_32', lambda: recover_step(dev, 32, 'convnet3', *((4, 5, 2) if dry else (100, 50, 20)))),
             ('recover_224', lambda: recover_step(dev, 64 if dry else 224, 'resnet18', *((2, 2, 1) if dry else (30, 10, 5)),
                                                  budget='1GB' if dry else None)),
             ('student', lambda: student_step(dev, 32, *((2, 8) if dry else (50, 256)))),
             ('end_to_end', lambda: end_to_end(dev, Path(tempfile.mkdtemp()), *((200, 1, 2, 1, 200) if dry else (1000, 2, 20, 2, 2000))))]
    for name, fn in steps:
        t = time.perf_counter()
        try: res['steps'][name] = dict(fn(), wall_seconds=time.perf_counter() - t)
        except Exception as e: res['steps'][name] = dict(error=f'{type(e).__name__}: {e}', wall_seconds=time.perf_counter() - t)
        print(f'{name}: {json.dumps(res["steps"][name], default=str)[:400]}', flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1, default=str) + '\n')
    bad = [k for k, v in res['steps'].items() if 'error' in v or any(isinstance(s, dict) and s.get('rc') for s in v.values())]
    print(f'gpu_check: {"FAILED " + ", ".join(bad) if bad else "all steps ran"} -> {a.out}')
    sys.exit(1 if bad else 0)

if __name__ == '__main__': main()
