"""Student-training throughput on the CPU (a benchmark, not a test): soft-label post-training with the online teacher
versus stored labels (no teacher in the loop), measured in one run so that their ratio is meaningful.

    .venv/bin/python benchmarks/bench_student.py [--ipc 10] [--epochs 4] [--student convnet3] [--out outputs/bench/student.json]

The teacher is a ConvNet-3 with random weights: throughput does not depend on what the weights are. Each mode runs one
warm-up epoch, then `epochs` timed epochs; the order of the modes alternates per repeat to spread machine noise."""
import argparse, json, platform, tempfile, time
from pathlib import Path
import torch
from delt.core import *
from delt.data import get_dataset
from delt.models import create_model
from delt.relabel import OnlineLabels, StoredLabels, store_labels, storage_bytes
from delt.augment import aug_spec, apply_aug, plan_epoch
from delt.evaluate import EvalConfig, resolve_config, make_optimizer, soft_epoch, random_subset

def timed_epochs(make_source, data, cfg, student, epochs, start):
    "Seconds for `epochs` soft epochs (after a warm-up epoch) of a fresh student on `data`."
    torch.manual_seed(0)
    model = create_model(student, len(data.classes), data.info.channels, data.info.size)
    opt, src = make_optimizer(model, cfg), make_source()
    soft_epoch(model, opt, src.epoch(start), cfg.temperature)                     # warm-up
    t = time.perf_counter()
    for e in range(start + 1, start + 1 + epochs): soft_epoch(model, opt, src.epoch(e), cfg.temperature)
    return time.perf_counter() - t

def aug_only(data, spec, bs, epochs, start):
    "Seconds to only draw and apply the augmentation for `epochs` epochs."
    t = time.perf_counter()
    for e in range(start + 1, start + 1 + epochs):
        for idx, p in plan_epoch(len(data), bs, *data.x.shape[-2:], spec, 0, e): apply_aug(data.x[idx], p, spec, data.info)
    return time.perf_counter() - t

def main(ipc=10, epochs=4, student='convnet3', repeats=2, out='outputs/bench/student.json'):
    train = get_dataset('fashion_mnist', 'train'); data = random_subset(train, ipc, seed=0)
    cfg = resolve_config(EvalConfig(epochs=epochs), student, ipc, len(data.classes))
    spec = aug_spec(data.info, cfg.mix, cfg.randaug, cfg.scale)
    torch.manual_seed(0); teacher = create_model('convnet3', 10, 1, 28).eval()
    n_epochs = 1 + (1 + epochs) * repeats
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = store_labels(data, teacher, spec, cfg.batch_size, n_epochs, Path(tmp)/'labels', seed=0, progress=False)
        store_s = time.perf_counter() - t
        sources = dict(online=lambda: OnlineLabels(data, teacher, spec, cfg.batch_size, seed=0),
                       stored=lambda: StoredLabels(path, data))
        secs = dict(online=0.0, stored=0.0, augment_only=0.0)
        for r in range(repeats):
            start = r * (1 + epochs)
            for mode in (['online', 'stored'] if r % 2 == 0 else ['stored', 'online']):
                secs[mode] += timed_epochs(sources[mode], data, cfg, student, epochs, start)
            secs['augment_only'] += aug_only(data, spec, cfg.batch_size, epochs, start)
        cost = storage_bytes(path)
    images = len(data) * epochs * repeats
    ips = {k: images / v for k, v in secs.items()}
    res = dict(device='cpu', threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine(),
               torch=torch.__version__, student=student, teacher='convnet3 (random weights)', dataset='fashion_mnist',
               ipc=ipc, n_images=len(data), batch_size=cfg.batch_size, timed_epochs=epochs * repeats,
               images_per_s={k: round(v, 1) for k, v in ips.items()},
               ratio_stored_over_online=round(ips['stored'] / ips['online'], 3),
               augment_share_of_online=round(secs['augment_only'] / secs['online'], 3),
               store_seconds_per_epoch=round(store_s / n_epochs, 3),
               stored_bytes_per_image_epoch=round(cost['per_image_epoch'], 1))
    Path(out).parent.mkdir(parents=True, exist_ok=True); save_json(res, out)
    print(json.dumps(res, indent=1))
    return res

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ipc', type=int, default=10); ap.add_argument('--epochs', type=int, default=4)
    ap.add_argument('--student', default='convnet3'); ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--out', default='outputs/bench/student.json')
    main(**vars(ap.parse_args()))
