"""delt-distill at scale (issue 23) and its user-facing behaviour (issue 22 items 5, 7, 9): the memory budget on the
command line, an IPC no class can fill refused before work, a rerun of a finished set reused, the image grid written,
bf16 an opt-in recorded in the manifest. In-process (`clitools.call`) on the shared one-epoch teacher."""
import json
from pathlib import Path
import pytest
from clitools import call, files_under

@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path); monkeypatch.setenv('DELT_CACHE', str(tmp_path/'cache'))
    return tmp_path

def refused(args, msg, root):
    from delt.distill import delt_distill
    before = files_under(root)
    code, _, err = call(delt_distill, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith('delt-distill: error: ') and msg in lines[0], err
    assert files_under(root) == before

@pytest.mark.parametrize('args,msg', [
    (['--ipc', '7000'], '--ipc 7000 needs 7000 real images per class, but class'),
    (['--ipc', '30', '--mipc', '20'], '--ipc 30 needs 30 real images per class, but class'),
    (['--ipc', '2000', '--mosaic', '2'], '--ipc 2000 × 4 mosaic cells needs 8000'),
    (['--memory-budget', 'lots'], "memory budget 'lots' is not a size"),
])
def test_distill_refuses_before_work(here, teacher, args, msg):
    refused(['--teacher', teacher, *args, '--out', 'set'], msg, here)

def test_noise_init_takes_any_ipc(here, teacher):
    "--init noise needs no real images: a large IPC is not refused by the class-size check (it fails later for no reason of ours)."
    from delt.distill import check_class_sizes, settings
    from delt.data import get_dataset
    fm = get_dataset('fashion_mnist')
    check_class_sizes(fm, settings('sre2l', fm.info, 7000))

def test_budget_rerun_grid_and_amp(here, teacher):
    from delt.distill import delt_distill
    args = ['--teacher', teacher, '--ipc', '2', '--mi', '2', '--ri', '1', '--mipc', '20', '--batch-size', '5', '--pass-images', '5',
            '--out', 'set', '--no-progress']
    code, out, err = call(delt_distill, *args, '--memory-budget', '2GB')
    assert code == 0, err
    man = json.loads((here/'set'/'manifest.json').read_text())
    assert man['memory']['budget'] == 2 * 10**9 and man['memory']['waves'] == 1 and man['settings']['amp'] is False
    assert (here/'set'/'images.png').stat().st_size > 1000                       # the grid, as the pipeline writes it
    assert not (here/'set'/'images.partial').exists() and not (here/'set'/'checkpoint.pt').exists()
    code, out2, err2 = call(delt_distill, *args, '--memory-budget', '2GB')
    assert code == 0 and 'already holds this set' in err2 and 'reused it' in err2, err2   # nothing recomputed
    assert json.loads((here/'set'/'manifest.json').read_text())['wall_seconds'] == man['wall_seconds']

def _checkpoint(path):
    "A small-image ResNet-18 of Fashion-MNIST (1 channel, 28 px) with BN statistics, saved as SRe2L/DELT save theirs."
    import torch
    from delt.models import create_model, bn_layers
    torch.manual_seed(0); net = create_model('resnet18', 10, 1, 28)
    for m in bn_layers(net): m.running_mean.normal_(0, 0.1); m.running_var.uniform_(0.5, 2)
    torch.save({'model': {f'module.{k}': v for k, v in net.state_dict().items()}}, path)
    return path

def test_distill_from_an_authors_checkpoint(here):
    "--teacher FILE.pth --teacher-arch resnet18: loaded, used, recorded with its source and sha256."
    from delt.distill import delt_distill
    from delt.core import sha256_file
    ck = _checkpoint(here/'teacher.pth')
    refused(['--teacher', ck, '--ipc', '1', '--out', 'set'], 'say its architecture with --teacher-arch', here)
    refused(['--teacher', ck, '--teacher-arch', 'resnet1888', '--out', 'set'], "unknown architecture 'resnet1888'", here)
    code, _, err = call(delt_distill, '--teacher', ck, '--teacher-arch', 'resnet18', '--ipc', '1', '--mi', '2', '--ri', '1', '--mipc', '10',
                        '--out', 'set', '--no-progress')
    assert code == 0, err
    t = json.loads((here/'set'/'manifest.json').read_text())['teacher']
    assert (t['source'], t['arch'], t['sha256']) == ('file', 'resnet18', sha256_file(ck))

def test_missing_pretrained_weights_say_where_to_put_them(here, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(here/'torch'))
    refused(['--teacher', 'torchvision:resnet18', '--ipc', '1', '--out', 'set'],
            f"put resnet18-f37072fd.pth (from https://download.pytorch.org/models/resnet18-f37072fd.pth) in {here/'torch'/'hub'/'checkpoints'}", here)

def test_gpu_check_steps_run_on_the_cpu():
    "benchmarks/gpu_check.py's recovery and student steps at tiny size: waves and the official loop give the same images."
    import importlib.util
    spec = importlib.util.spec_from_file_location('gpu_check', Path(__file__).parent.parent/'benchmarks'/'gpu_check.py')
    gc = importlib.util.module_from_spec(spec); spec.loader.exec_module(gc)
    r = gc.recover_step('cpu', 32, 'convnet3', 4, 5, 2)
    assert r['images'] == 20 and r['waves']['memory']['waves'] == 1 and r['loop']['sec_per_iter'] > 0
    assert r['max_abs_image_difference'] < 5e-2, r['max_abs_image_difference']      # the same images up to float rounding
    s = gc.student_step('cpu', 32, 1, 4)
    assert s['images_per_sec'] > 0 and s['batch'] == 4
