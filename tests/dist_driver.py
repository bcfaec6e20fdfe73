"""Run by tests/test_distributed.py under `torchrun --nproc-per-node 2` (gloo, one thread each): every stage that splits
its work, checked against the same call made as one process (`local()`) in the same job. Argument: a scratch folder
and the teacher folder. Any failed check fails this process, and so the torchrun job."""
import contextlib, io, os, sys, json
from pathlib import Path
import torch
import delt.distill, delt.squeeze
from delt.distributed import setup, local, rank, world, gather, barrier, per_rank
from delt.data import get_dataset
from delt.cli import UserError
from delt.ranking import score_images
from delt.recover import RecoverConfig, recover
from delt.mosaic import real_init
from delt.distill import distill
from delt.squeeze import train_teacher, load_teacher, Recipe, ddp_setup
from delt.evaluate import EvalConfig, resolve_config, evaluate_seeds, random_baseline
from delt.sets import read_set
from delt.relabel import store_labels
from delt.augment import aug_spec
import numpy as np

tmp, tdir = Path(sys.argv[1]), Path(sys.argv[2])
launch = setup('cpu'); assert (launch.world, launch.backend, world()) == (2, 'gloo', 2) and rank() == launch.rank
fm, test = get_dataset('fashion_mnist', 'train'), get_dataset('fashion_mnist', 'test')
test = test.subset(torch.arange(0, 10000, 50))
teacher, _ = load_teacher(tdir, fm.classes)

# ranking: the images' batches dealt over the ranks, every score on every rank, equal to one process's
idx = torch.arange(0, 60000, 97)
s2 = score_images(teacher, fm, idx, bs=100, progress=False)
with local(): s1 = score_images(teacher, fm, idx, bs=100, progress=False)
assert torch.equal(s1, s2) and len(s2) == len(idx)

# recovery with more ranks than batches: rank 1 idle, the same images everywhere
x0 = real_init(fm, [fm.class_indices(c)[:2] for c in range(10)], ipc=2)
cfg = RecoverConfig(mi=4, ri=2, batch_size=100, pass_images=16)
r2 = recover(teacher, x0, fm.info, cfg, progress=False)
with local(): r1 = recover(teacher, x0, fm.info, cfg, progress=False)
assert torch.equal(r1.images, r2.images) and r2.shards == [[0], []] and r1.image_iterations == r2.image_iterations

# distill: killed at iteration 3 on every rank (checkpoints every 2), nothing looks complete; run again, it resumes
kw = dict(method='delt', ipc=2, seed=0, progress=False, device='cpu', mi=6, ri=3, batch_size=4, mipc=30, pass_images=16,
          checkpoint_every=2, cache=tmp/'cache')
orig, seen, die = delt.distill.recover, [], [True]
def dying(*a, **k):
    def cb(it):
        seen.append(it)
        if it == 3 and die[0]: raise KeyboardInterrupt
    return orig(*a, **k, callback=cb)
delt.distill.recover = dying
try: distill(fm, tdir, out=tmp/'set2', **kw)
except KeyboardInterrupt: pass
else: raise AssertionError('the run was not stopped')
assert not (tmp/'set2'/'manifest.json').exists() and per_rank(tmp/'set2'/'checkpoint.pt').exists()
seen.clear(); die[0] = False; man = distill(fm, tdir, out=tmp/'set2', **kw)
delt.distill.recover = orig
assert seen[0] == 2 and not per_rank(tmp/'set2'/'checkpoint.pt').exists()           # resumed from iteration 2
assert man['distributed'] == dict(world_size=2, batches_by_rank=[[0, 2, 4], [1, 3]]), man['distributed']
if rank() == 0:
    with local(): distill(fm, tdir, out=tmp/'set1', **kw)                           # the single-process reference
barrier()
# waves: a budget of one byte makes every batch a wave of its own, on each rank; the same set
man_w = distill(fm, tdir, out=tmp/'set2w', **{**kw, 'memory_budget': 1})
assert man_w['memory']['waves_by_rank'] == [3, 2], man_w['memory']

# mismatched arguments: refused on every rank before any work
try: distill(fm, tdir, out=tmp/'bad', **{**kw, 'ipc': 2 + rank()})
except UserError as e: assert 'disagree' in str(e) and 'ipc' in str(e), e
else: raise AssertionError('mismatched arguments were not refused')
assert not (tmp/'bad'/'manifest.json').exists()

# evaluation: the seeds (and the random baseline's) dealt over the ranks, each seed's history equal to one process's
data, _ = read_set(tmp/'set2', fm.info, fm.classes)
ec = resolve_config(EvalConfig('hard', 3, augment='none', eval_every=3), 'convnet3', 2, 10)
e2 = evaluate_seeds(data, test, ec, 'convnet3', [1, 2, 3], path=tmp/'runs.json', key='k', device='cpu', progress=False)
b2 = random_baseline(fm, test, ec, 'convnet3', 2, [4, 5], cache=tmp/'baselines', device='cpu', progress=False)
with local():
    e1 = evaluate_seeds(data, test, ec, 'convnet3', [1, 2, 3], device='cpu', progress=False)
    b1 = random_baseline(fm, test, ec, 'convnet3', 2, [4, 5], device='cpu', progress=False)
assert e1 == e2 and b1 == b2, (e1, e2, b1, b2)
assert sorted(json.loads((tmp/'runs.json').read_text())['runs']) == ['1', '2', '3']   # both ranks' seeds kept on disk

# PDD's evaluation (delt-evaluate --schedule on a delt-pdd set): the seeds, and the random-real row's, dealt over the
# ranks; the same accuracies as one process; one report, written and printed by rank 0
from delt.pdd import write_stage, evaluate_run
from delt.evaluate import random_subset
if rank() == 0:
    write_stage(tmp/'pdd', random_subset(fm, 2, 1).x.view(10, 2, 1, 28, 28), [1, 2], fm.info,
                dict(method='pdd', base='gradient_matching', dataset='fashion_mnist', classes=fm.classes, ipc=2,
                     pdd=dict(stage=2, stages=2)))
barrier()
pk = dict(images=str(tmp/'pdd'), schedule='progressive', seeds=2, epochs_per_stage=1, n_test=200, device='cpu',
          progress=False)
buf = io.StringIO()
with contextlib.redirect_stdout(buf): p2 = evaluate_run(out=str(tmp/'pdd_ev2'), **pk)
assert gather(buf.getvalue().count('PDD protocol')) == [1, 0], buf.getvalue()
if rank() == 0:
    with local(), contextlib.redirect_stdout(io.StringIO()): p1 = evaluate_run(out=str(tmp/'pdd_ev1'), **pk)
    for k in ('acc_final', 'random_acc_final', 'seeds'): assert p1[k] == p2[k], (k, p1[k], p2[k])
    assert json.loads((tmp/'pdd_ev2'/'metrics.json').read_text())['random_acc_final'] == p1['random_acc_final']
barrier()

# stored soft labels: the epochs dealt over the ranks, into the same files as one process writes
spec = aug_spec(fm.info)
store_labels(data, teacher, spec, 10, 3, tmp/'labels2', progress=False)
if rank() == 0:
    with local(): store_labels(data, teacher, spec, 10, 3, tmp/'labels1', progress=False)
    for f in sorted((tmp/'labels1').glob('*.npy')): assert np.array_equal(np.load(f), np.load(tmp/'labels2'/f.name)), f.name
    assert (tmp/'labels1'/'meta.json').read_text() == (tmp/'labels2'/'meta.json').read_text()
barrier()

# squeeze: DDP over the ranks; one teacher written, by rank 0, and the ranks end with the same weights
saves, orig_save = [], delt.squeeze.save_teacher
delt.squeeze.save_teacher = lambda *a, **k: saves.append(1) or orig_save(*a, **k)
small = fm.subset(torch.arange(0, 60000, 100))
model, meta = train_teacher(small, test, 'convnet3', Recipe(epochs=2, batch_size=40, lr=0.05), tmp/'teacher', device='cpu', progress=False)
delt.squeeze.save_teacher = orig_save
assert gather(len(saves)) == [1, 0] and sorted(p.name for p in (tmp/'teacher').iterdir()) == ['teacher.json', 'teacher.safetensors']
w = torch.cat([p.detach().flatten() for p in model.parameters()])
assert all(torch.equal(w, v) for v in gather(w)) and meta['test_acc'] > 30, meta['test_acc']
assert gather(meta['sha256'])[0] == gather(meta['sha256'])[1]
os.environ['DELT_SYNC_BN'] = '1'
try: ddp_setup(torch.nn.BatchNorm2d(2), Recipe(batch_size=40)); raise AssertionError('SyncBatchNorm on CPU not refused')
except UserError as e: assert 'GPU' in str(e)
print(f'rank {rank()}: all checks passed')
