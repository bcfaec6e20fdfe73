"""`delt-evaluate` end to end, run as a user runs it: a tiny teacher, tiny sets of real images saved as PNG, and the
inputs it must refuse before any training starts."""
import json, os, shutil, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest
from PIL import Image

from clitools import BIN, run, call, files_under
IPC = 2

@pytest.fixture(scope='module')
def real():
    "IPC real Fashion-MNIST training images per class (uint8 28×28), and the class names."
    from delt.data import get_dataset
    d = get_dataset('fashion_mnist', 'train')
    return [[d.x[i, 0].numpy() for i in d.class_indices(c)[:IPC]] for c in range(10)], d.classes

def ours(root, real):
    "delt's layout: root/images/<class index>/<id>.png + root/manifest.json."
    imgs, classes = real; rows = []
    for c, ims in enumerate(imgs):
        for j, a in enumerate(ims):
            f = f'images/{c:02d}/{c * IPC + j:05d}.png'; (root/f).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(a).save(root/f); rows.append(dict(file=f, label=c))
    (root/'manifest.json').write_text(json.dumps(dict(dataset='fashion_mnist', classes=classes, ipc=IPC, images=rows)))
    return root

def class_folders(root, real, folder, name):
    "The real images as RGB files `root/folder(c)/name(c, j)`: a set in a layout without a manifest."
    for c, ims in enumerate(real[0]):
        (root/folder(c)).mkdir(parents=True)
        for j, a in enumerate(ims): Image.fromarray(a).convert('RGB').save(root/folder(c)/name(c, j))
    return root

def peer(root, real):
    "A peer's layout: no manifest, class folders named by the peer (sorted = class order)."
    return class_folders(root, real, lambda c: f'class{c:02d}', lambda c, j: f'{j}.png')

def evaluate_args(teacher, images, out, *extra, cache=None):
    return ['--dataset', 'fashion_mnist', '--teacher', teacher, '--images', images, '--student-arch', 'convnet3', '--eval-epochs', '2',
            '--seeds', '1', '--n-test', '300', '--out', out, '--cache-dir', cache or out.parent/'cache', '--no-progress', *extra]

def evaluate(teacher, images, out, *extra, cache=None):
    return run('delt-evaluate', *evaluate_args(teacher, images, out, *extra, cache=cache))

def test_evaluate_writes_report(tmp_path, teacher, real):
    out = tmp_path/'eval'
    r = evaluate(teacher, ours(tmp_path/'set', real), out)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((out/'metrics.json').read_text())
    for k in ('acc_final', 'acc_final_mean', 'acc_final_std', 'acc_best_mean', 'random_acc_final_mean', 'teacher_acc'):
        assert m[k] is not None, k
    assert len(m['acc_final']) == 1 and m['seeds'] == [3407] and m['ipc'] == IPC and m['n_images'] == 10 * IPC
    assert m['config']['batch_size'] == 10 and m['config']['temperature'] == 20 and m['teacher_acc'] > 30
    assert sorted(p.name for p in out.iterdir()) == ['accuracy.png', 'metrics.json', 'results.csv', 'runs.json', 'runs_hard.json']
    rows = (out/'results.csv').read_text().splitlines()
    assert rows[0].startswith('set,seed,epoch') and len(rows) == 1 + 4    # distilled + random real, soft and hard labels, one evaluation each
    assert 'final' in r.stdout and 'random real' in r.stdout and 'DD-Ranking' in r.stdout and 'hard labels' in r.stdout
    assert m['hard_acc_final_mean'] is not None and m['random_hard_acc_final_mean'] is not None and m['dd_ranking']['ior'] is not None
    assert len(list((tmp_path/'cache'/'baselines').glob('*.json'))) == 2   # the baselines (soft and hard labels) are cached, under --cache-dir

def test_peer_set_without_manifest(tmp_path, teacher, real):
    out = tmp_path/'eval'
    r = evaluate(teacher, peer(tmp_path/'peer', real), out, '--no-random', '--no-context', '--eval-every', '1')
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((out/'metrics.json').read_text())
    assert m['manifest'] is False and m['n_images'] == 10 * IPC and m['random_acc_final_mean'] is None
    assert m['config']['eval_every'] == 1 and len((out/'results.csv').read_text().splitlines()) == 1 + 2   # tested after epochs 1 and 2

def test_hard_protocol_takes_learned_lr(tmp_path, real):
    root = ours(tmp_path/'set', real)
    m = json.loads((root/'manifest.json').read_text()); m['learned_lr'] = 0.02; (root/'manifest.json').write_text(json.dumps(m))
    out = tmp_path/'eval'
    r = run('delt-evaluate', '--images', root, '--protocol', 'hard', '--eval-epochs', '2', '--seeds', '1', '--n-test', '300',
            '--out', out, '--no-random', '--no-progress')                  # no teacher: hard labels need none
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((out/'metrics.json').read_text())
    assert m['config']['lr'] == 0.02 and m['config']['lr_schedule'] == 'step' and m['teacher_acc'] is None

def _drop_class(root): shutil.rmtree(root/'class09')
def _empty_class(root): [f.unlink() for f in (root/'class03').iterdir()]
def _junk(root): (root/'class05'/'notes.txt').write_text('not an image')
def _reorder(root):
    m = json.loads((root/'manifest.json').read_text()); m['classes'] = m['classes'][::-1]
    (root/'manifest.json').write_text(json.dumps(m))

def _pdd_run(root):                                                    # a delt-pdd run folder, not a set
    shutil.move(str(root/'images'), str(root/'stage_1')); (root/'stage_2').mkdir()
    (root/'run.json').write_text('{}'); (root/'manifest.json').unlink()

@pytest.mark.parametrize('layout,edit,extra,msg', [
    (peer, _drop_class, [], '9 class folders but the dataset has 10'),   # wrong class count
    (peer, _empty_class, [], 'have no images'),
    (peer, _junk, [], 'not images'),
    (ours, _reorder, [], 'another class order'),
    (ours, _pdd_run, [], '/set/stage_2 (it holds every stage'),             # which folder to pass
    (ours, None, ['--student-arch', 'resnet181'], 'unknown architecture'),
    (ours, None, ['--dataset', 'fashon_mnist'], 'unknown dataset'),
    (ours, None, ['--dataset', 'folder:/no/such/folder@28'], 'does not exist'),
    (ours, None, ['--teacher', '/no/such/teacher'], 'no teacher at'),
    (ours, None, ['--images', '/no/such/set'], 'is not a directory'),
    (ours, None, ['--eval-preset', 'idc'], 'unknown protocol preset'),
    (ours, None, ['--seeds', '0'], '--seeds must be'),                   # zero and negative counts
    (ours, None, ['--eval-epochs', '0'], '--eval-epochs must be'),
    (ours, None, ['--n-test', '0'], '--n-test must be'),
    (ours, None, ['--eval-every', '-1'], '--eval-every must be'),
    (ours, None, ['--hard-epochs', '0'], '--hard-epochs must be'),
    (ours, None, ['--lr', '0'], '--lr must be'),
])
def test_bad_inputs_fail_before_training(tmp_path, teacher, real, layout, edit, extra, msg):
    "In this process, as the console script runs it: one line on stderr naming the mistake, exit 2, nothing trained or written."
    from delt.pipeline import delt_evaluate
    root = layout(tmp_path/'set', real)
    if edit: edit(root)
    before = files_under(tmp_path); out = tmp_path/'eval'
    code, _, err = call(delt_evaluate, *evaluate_args(teacher, root, out, *extra))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith('delt-evaluate: error: ') and msg in lines[0], err   # one line, no traceback
    assert files_under(tmp_path) == before                               # nothing trained, nothing written (no out, no cache)

def test_old_spellings_still_work_with_a_note(tmp_path, teacher, real):
    from delt.pipeline import delt_evaluate
    code, _, err = call(delt_evaluate, '--images', ours(tmp_path/'set', real), '--teacher', teacher, '--student', 'resnet18', '--epochs', '0',
                        '--out', tmp_path/'eval')
    lines = err.strip().splitlines()                                     # a note per old spelling, then the mistake under the new name
    assert code == 2 and len(lines) == 3 and lines[0].startswith('delt-evaluate: note: --student is deprecated: use --student-arch'), err
    assert lines[2] == 'delt-evaluate: error: --eval-epochs must be a whole number ≥ 1, not 0', err


def test_random_baseline_on_a_streamed_image_folder(tmp_path, real):
    "Your own 28-px grey ImageFolder, streamed from disk (over the in-memory threshold): teacher, set, evaluation and random baseline."
    from delt.data import get_dataset
    d = get_dataset('fashion_mnist', 'train'); root = tmp_path/'digits'; names = ['boot', 'coat', 'shirt']
    for split, n, off in (('train', 30, 0), ('val', 10, 100)):
        for name, c in zip(names, (9, 4, 6)):
            (root/split/name).mkdir(parents=True)
            for j, i in enumerate(d.class_indices(c)[off:off + n].tolist()):
                Image.fromarray(d.x[i, 0].numpy()).convert('RGB').save(root/split/name/f'{j}.png')   # grey pixels in RGB files
    ds, env = f'folder:{root}@28', dict(os.environ, DELT_IN_MEMORY_MB='0', DELT_CACHE=str(tmp_path/'delt_cache'), OMP_NUM_THREADS='1')
    r = run('delt-squeeze', '--dataset', ds, '--teacher-epochs', '1', '--teacher-batch-size', '30', '--out', tmp_path/'t', env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    for name in names:                                                    # the set: 2 real images per class, a peer layout
        (tmp_path/'set'/name).mkdir(parents=True)
        for j in range(2): shutil.copy(root/'train'/name/f'{j}.png', tmp_path/'set'/name/f'{j}.png')
    out = tmp_path/'eval'
    r = run('delt-evaluate', '--dataset', ds, '--teacher', tmp_path/'t', '--images', tmp_path/'set', '--eval-epochs', '1', '--seeds', '1',
            '--out', out, '--cache-dir', tmp_path/'cache', '--no-progress', '--no-flip', env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((out/'metrics.json').read_text())
    assert m['data']['streamed'] and m['data']['channels'] == 1 and m['n_images'] == 6 and m['config']['flip'] is False
    assert 0 < m['data']['mean'][0] < 1 and 0 < m['data']['std'][0] < 1   # measured on the training split
    for k in ('acc_final_mean', 'random_acc_final_mean', 'hard_acc_final_mean', 'random_hard_acc_final_mean', 'teacher_acc'):
        assert m[k] is not None, k
    assert len(list((tmp_path/'cache'/'baselines').glob('*.json'))) == 2  # both baselines cached, keyed by the file list


def mtt_set(root, real, lr=0.02):
    "An MTT/PDD-format set as their distill scripts save it: normalised float images, class-major, labels, the learned lr."
    import torch
    x = torch.tensor(np.stack([a for ims in real[0] for a in ims]))[:, None].float() / 255
    root.mkdir(parents=True)
    torch.save((x - 0.2860) / 0.3530, root/'images_best.pt'); torch.save(torch.arange(10).repeat_interleave(IPC), root/'labels_best.pt')
    torch.save(torch.tensor(lr), root/'syn_lr_best.pt')
    return root

def official_folder(root, real):
    "The SRe2L/CDA/DELT layout: new<class:03d>/class<class:03d>_id<i:03d>.jpg."
    return class_folders(root, real, lambda c: f'new{c:03d}', lambda c, j: f'class{c:03d}_id{j:03d}.jpg')

def test_published_sets_are_evaluated_next_to_random_real(tmp_path, teacher, real):
    "A set in MTT's tensor files and one in DELT's JPEG folders: read, described in one note, reported beside random real."
    from delt.pipeline import delt_evaluate
    common = ['--eval-epochs', '2', '--seeds', '1', '--n-test', '300', '--no-context', '--no-progress', '--cache-dir', tmp_path/'cache']
    code, out, err = call(delt_evaluate, '--images', mtt_set(tmp_path/'mtt', real), '--out', tmp_path/'e1', *common)
    assert code == 0, err[-3000:]
    m = json.loads((tmp_path/'e1'/'metrics.json').read_text())
    assert m['config']['preset'] == 'mtt' and abs(m['config']['lr'] - 0.02) < 1e-6 and m['random_acc_final_mean'] is not None
    assert ('mtt format: 20 images, 10 classes (2 per class), 28 px, 1 channel, floats in normalised space (ZCA? no); '
            'learned lr 0.02') in err, err
    assert 'random real' in out and '1 seed, tested on 300 test images' in out, out
    code, out, err = call(delt_evaluate, '--images', official_folder(tmp_path/'off', real), '--teacher', teacher, '--out', tmp_path/'e2', *common)
    assert code == 0, err[-3000:]
    m = json.loads((tmp_path/'e2'/'metrics.json').read_text())
    assert m['protocol'] == 'soft' and m['n_images'] == 10 * IPC and m['random_acc_final_mean'] is not None
    assert 'official-folder format: 20 images, 10 classes (2 per class), 28 px, 1 channel, 8-bit pixels (ZCA? no); classes by folder index' in err, err

def test_export_round_trip_through_the_command(tmp_path, real):
    "delt-export from delt's layout to each peer format and back: the same images (JPEG: up to its loss), the same labels."
    import torch
    from delt.sets import delt_export, read_set
    from delt.data import dataset_info
    src, info = ours(tmp_path/'set', real), dataset_info('fashion_mnist')
    base, _ = read_set(src, info, info.classes, prog=None)
    for fmt in ('mtt', 'ddranking', 'official-folder', 'delt'):
        code, out, err = call(delt_export, '--images', src, '--out', tmp_path/fmt, '--format', fmt)
        assert code == 0 and f'20 images written as {fmt}' in out, err
        back, _ = read_set(tmp_path/fmt, info, info.classes, prog=None)
        assert torch.equal(back.y, base.y)
        diff = (back.x.float() - base.x.float()).abs().mean()
        assert (0 < diff < 8) if fmt == 'official-folder' else diff == 0, (fmt, diff)
    code, _, err = call(delt_export, '--images', src, '--out', tmp_path/'mtt')
    assert code == 2 and err.strip() == f'delt-export: error: {tmp_path/"mtt"} exists: choose another --out, or pass --overwrite to replace it', err
