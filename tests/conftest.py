import os
os.environ.setdefault('MPLBACKEND', 'Agg')

import pytest
from clitools import run

@pytest.fixture(scope='session')
def teacher(tmp_path_factory):
    "One small Fashion-MNIST teacher for every command-line test (1 000 images, one epoch), trained through delt-squeeze."
    out = tmp_path_factory.mktemp('teacher')/'t'
    r = run('delt-squeeze', '--n-train', '1000', '--teacher-epochs', '1', '--teacher-batch-size', '50', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    return out
