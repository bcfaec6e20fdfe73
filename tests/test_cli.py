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
    (['--dataset', 'fashionmnistt'], 'unknown dataset'),
    (['--arch', 'convnet33'], 'unknown architecture'),
    (['--dataset', 'cifar10', '--data-root', '/nonexistent'], 'not found'),
    (['--epochs', '0'], '--epochs must be'),
    (['--n-train', '0'], '--n-train must be'),
    (['--augment', 'rotate'], '--augment must be'),
])
def test_squeeze_bad_inputs(tmp_path, args, msg):
    "A user mistake: one line on stderr naming it, exit status 2, no traceback, nothing written."
    out = tmp_path/'t'
    r = run('delt-squeeze', '--epochs', '1', *args, '--out', str(out))
    assert r.returncode == 2 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()     # nothing half-written

def test_distill_writes_the_official_format_on_request(tmp_path, teacher):
    r = run('delt-distill', '--teacher', teacher, '--ipc', '2', '--mi', '4', '--ri', '2', '--mipc', '20', '--format', 'jpg',
            '--batch-size', '8', '--out', tmp_path/'set')
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path/'set'/'manifest.json').read_text())
    assert m['format'] == 'jpg' and all(i['file'].endswith('.jpg') for i in m['images'])
    assert m['settings']['layout'] == 'class_major' and [i['batch'] for i in m['images'][:10]] == [0] * 8 + [1] * 2

@pytest.mark.parametrize('args,msg', [
    (['--layout', 'diagonal'], 'unknown batch layout'),
    (['--batch-size', '0'], 'batch size must be'),
    (['--format', 'webp'], 'unknown image format'),
    (['--ipc', '0'], 'IPC must be'),
    (['--mi', '100', '--ri', '30'], 'not a multiple'),
    (['--method', 'dealt'], 'unknown preset'),
    (['--teacher', '/nonexistent/teacher'], 'no teacher at'),
])
def test_distill_bad_inputs(tmp_path, teacher, args, msg):
    "A user mistake: one line on stderr naming it, exit status 2, no traceback, nothing written."
    out = tmp_path/'set'
    r = run('delt-distill', '--teacher', teacher, *args, '--out', out)
    assert r.returncode == 2 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()
