"""Every stage under `torchrun --nproc-per-node 2` (gloo, one thread per process) gives what one process gives
(tests/dist_driver.py checks ranking, recovery, distill, evaluation, PDD's evaluation and squeeze in one job), and the command line refuses
ranks started with different arguments."""
import os, socket, subprocess, sys
from pathlib import Path
import delt
from clitools import BIN

ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')

def torchrun(*args, standalone=True, **kw):
    "`torchrun --nproc-per-node 2` on this machine (`--standalone`: a free port), output captured."
    return subprocess.run([str(BIN/'torchrun'), *(['--standalone'] if standalone else []), '--nproc-per-node', '2', *map(str, args)],
                          capture_output=True, text=True, env=ENV, **kw)

def same_pngs(one, two):
    "The PNGs of sets `one` and `two`: the same files, byte for byte."
    files = sorted(p.relative_to(one) for p in (one/'images').rglob('*.png'))
    return len(files) > 0 and files == sorted(p.relative_to(two) for p in (two/'images').rglob('*.png')) \
        and all((one/f).read_bytes() == (two/f).read_bytes() for f in files)

def test_every_stage_on_two_processes_equals_one(tmp_path, teacher):
    r = torchrun(Path(__file__).parent/'dist_driver.py', tmp_path, teacher, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert r.stdout.count('all checks passed') == 2
    assert 'ranks for 1 batches' in r.stderr                       # the idle rank is said once, by rank 0
    assert same_pngs(tmp_path/'set1', tmp_path/'set2') and len(list((tmp_path/'set2'/'images').rglob('*.png'))) == 20
    assert same_pngs(tmp_path/'set1', tmp_path/'set2w')                       # two ranks in waves of one batch: the same bytes
    assert sorted(p.name for p in (tmp_path/'set2').iterdir()) == ['extras.pt', 'images', 'manifest.json']   # no checkpoint left

def test_a_killed_rank_restarts_and_resumes_to_the_same_images(tmp_path, teacher):
    "torchrun --max-restarts with the c10d rendezvous (the commands of the docs): each rank resumes from its own checkpoint."
    with socket.socket() as s: s.bind(('localhost', 0)); port = s.getsockname()[1]
    r = torchrun('--rdzv-backend', 'c10d', '--rdzv-endpoint', f'localhost:{port}', '--max-restarts', '1',
                 Path(__file__).parent/'dist_elastic.py', tmp_path, teacher, timeout=600, standalone=False)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert 'rank 1 attempt 1: resumed at iteration 2' in r.stdout and 'rank 0 attempt 1: resumed at iteration' in r.stdout, r.stdout
    assert same_pngs(tmp_path/'set1', tmp_path/'set2')

def test_ranks_with_different_arguments_are_refused(tmp_path, teacher):
    "On several nodes each runs its own command; here rank 1 asks for another IPC: one line on stderr (from rank 0), exit 2, nothing written."
    cmd = (f'exec {BIN}/delt-distill --teacher {teacher} --ipc $((2 + RANK)) --mi 2 --ri 1 --mipc 20 --device cpu --no-progress '
           f'--cache-dir {tmp_path}/cache --out {tmp_path}/set')
    r = torchrun('--no-python', 'sh', '-c', cmd, timeout=600)
    assert r.returncode != 0 and str(Path(delt.__file__).parent) not in r.stderr, r.stderr[-3000:]   # torchrun's report, no traceback of ours
    assert r.stderr.count('delt-distill: error: the ranks of this torchrun job disagree on the distill arguments: '
                          'rank 1 was started with settings.ipc=3 but rank 0 with settings.ipc=2') == 1, r.stderr[-3000:]
    assert 'exitcode  : 2' in r.stderr and not (tmp_path/'set'/'manifest.json').exists()

def test_a_torchrun_command_reports_once(tmp_path, teacher):
    "Both ranks run delt-distill; the result line is printed by rank 0 alone, and the set is written once."
    cmd = (f'exec {BIN}/delt-distill --teacher {teacher} --ipc 2 --mi 2 --ri 1 --mipc 20 --device cpu --no-progress '
           f'--cache-dir {tmp_path}/cache --out {tmp_path}/set')
    r = torchrun('--no-python', 'sh', '-c', cmd, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert r.stdout.count('image-iterations (constant-MI:') == 1, r.stdout
    assert (tmp_path/'set'/'manifest.json').exists()
