"""The command-line entry points, run as a user would run them."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

from clitools import BIN, run

def test_squeeze_writes_teacher_and_metrics(tmp_path):
    out = tmp_path/'t'
    r = run('delt-squeeze', '--dataset', 'fashion_mnist', '--arch', 'convnet3', '--epochs', '1', '--n-train', '1000',
            '--batch-size', '50', '--out', str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((out/'metrics.json').read_text())
    assert m['dataset'] == 'fashion_mnist' and m['arch'] == 'convnet3' and len(m['classes']) == 10
    assert 30 < m['test_acc'] <= 100            # 1 000 images, one epoch: far above the 10 % of chance
    assert f"{m['test_acc']:.2f} %" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ['metrics.json', 'teacher.json', 'teacher.safetensors']

@pytest.mark.parametrize('args,msg', [
    (['--dataset', 'fashionmnist'], 'unknown dataset'),
    (['--arch', 'convnet33'], 'unknown architecture'),
    (['--dataset', 'cifar10', '--data-root', '/nonexistent'], 'not found'),
])
def test_squeeze_bad_inputs(tmp_path, args, msg):
    out = tmp_path/'t'
    r = run('delt-squeeze', *args, '--epochs', '1', '--out', str(out))
    assert r.returncode != 0 and msg in r.stderr, r.stderr[-2000:]
    assert not out.exists()                       # nothing half-written
