"""Run by tests/test_distributed.py under `torchrun --nproc-per-node 2 --max-restarts 1` (c10d rendezvous): rank 1 dies
hard in the middle of recovery on the first attempt; torchrun restarts the job, every rank resumes from its own
checkpoint, and rank 0 then makes the single-process reference. Arguments: a scratch folder and the teacher folder."""
import os, sys
from pathlib import Path
import delt.distill
from delt.distributed import setup, rank, local
from delt.data import get_dataset
from delt.distill import distill

tmp, tdir = Path(sys.argv[1]), Path(sys.argv[2])
setup('cpu'); fm = get_dataset('fashion_mnist', 'train')
attempt, orig, seen = int(os.environ['TORCHELASTIC_RESTART_COUNT']), delt.distill.recover, []
def dying(*a, **k):
    def cb(it):
        seen.append(it)
        if attempt == 0 and rank() == 1 and it == 3: os._exit(1)        # no exception, no clean-up: the process is gone
    return orig(*a, **k, callback=cb)
delt.distill.recover = dying
kw = dict(method='delt', ipc=2, seed=0, progress=False, device='cpu', mi=6, ri=3, batch_size=4, mipc=30, pass_images=16,
          checkpoint_every=2, cache=tmp/'cache')
distill(fm, tdir, out=tmp/'set2', **kw)
print(f'rank {rank()} attempt {attempt}: resumed at iteration {seen[0] if seen else 6}', flush=True)
delt.distill.recover = orig
if rank() == 0:
    with local(): distill(fm, tdir, out=tmp/'set1', **kw)
