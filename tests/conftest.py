import os
os.environ.setdefault('MPLBACKEND', 'Agg')
# Under pytest-xdist (`make test` runs `pytest -n auto`) the cores are shared out among the workers, before torch is imported
# here or in any notebook kernel or console script a test starts: N workers with all cores each would oversubscribe.
_workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
if _workers > 1: os.environ.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // _workers)))

import pytest
from clitools import run

@pytest.fixture(scope='session')
def teacher(tmp_path_factory):
    "One small Fashion-MNIST teacher for every command-line test (1 000 images, one epoch), trained through delt-squeeze."
    out = tmp_path_factory.mktemp('teacher')/'t'
    r = run('delt-squeeze', '--n-train', '1000', '--teacher-epochs', '1', '--teacher-batch-size', '50', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    return out
