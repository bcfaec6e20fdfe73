"""The command-line entry points, run as a user would run them: two real console-script runs (the entry points
themselves), and the user mistakes driven in this process through the same argument parsing and error handling
(`clitools.call`: no 5 s of imports per case)."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image

from clitools import BIN, run, call, files_under

def test_squeeze_writes_teacher_and_metrics(tmp_path):
    out = tmp_path/'t'
    r = run('delt-squeeze', '--dataset', 'fashion_mnist', '--teacher-arch', 'convnet3', '--teacher-epochs', '1', '--n-train', '1000',
            '--teacher-batch-size', '50', '--out', str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((out/'metrics.json').read_text())
    assert m['dataset'] == 'fashion_mnist' and m['arch'] == 'convnet3' and len(m['classes']) == 10
    assert 30 < m['test_acc'] <= 100            # 1 000 images, one epoch: far above the 10 % of chance
    assert f"{m['test_acc']:.2f} %" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ['metrics.json', 'teacher.json', 'teacher.safetensors']

def test_importing_delt_leaves_argparse_and_excepthook_alone():
    "A library import changes nothing in the process: one-line parse errors and the Ctrl-C hook are for commands only."
    code = ('import argparse, sys, delt.cli, delt.data, delt.squeeze, delt.pipeline; '
            'assert not getattr(argparse.ArgumentParser.error, "_delt", False) and sys.excepthook is sys.__excepthook__')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]

@pytest.mark.parametrize('args,line', [
    (['delt-squeeze', '--teacher-epochs', 'abc'],
     "delt-squeeze: error: argument --teacher-epochs: invalid int value: 'abc'; see delt-squeeze --help"),
    (['python', '-m', 'delt.pipeline', '--out'],
     'python -m delt.pipeline: error: argument --out: expected one argument; see python -m delt.pipeline --help')])
def test_a_command_gives_one_line_parse_errors(tmp_path, args, line):
    "The real entry points (a console script, python -m delt.…) switch on delt's command-line behaviour themselves."
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip() == line, r.stderr

@pytest.fixture
def here(tmp_path, monkeypatch):
    """A fresh working directory with its own cache: whatever a refused command wrote would show up under it. The process
    is a command's for the test (`as_command`, as a console script's first line makes it), and back to itself afterwards."""
    import argparse
    from delt.cli import as_command
    monkeypatch.setattr(argparse.ArgumentParser, 'error', argparse.ArgumentParser.error)
    monkeypatch.setattr(sys, 'excepthook', sys.excepthook)
    as_command()
    monkeypatch.chdir(tmp_path); monkeypatch.setenv('DELT_CACHE', str(tmp_path/'cache'))
    return tmp_path

def refused(command, prog, args, msg, root):
    "Run `command` in-process with `args`: exit 2, one stderr line `prog: error: …msg…`, no traceback, nothing new under `root`."
    before = files_under(root)
    code, _, err = call(command, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f'{prog}: error: ') and msg in lines[0], err
    assert files_under(root) == before

@pytest.mark.parametrize('args,msg', [
    (['--dataset', 'fashionmnistt'], 'unknown dataset'),
    (['--teacher-arch', 'convnet33'], 'unknown architecture'),
    (['--dataset', 'cifar10', '--data-root', '/nonexistent'], 'not found'),
    (['--teacher-epochs', '0'], '--teacher-epochs must be'),
    (['--teacher-epochs', 'abc'], "argument --teacher-epochs: invalid int value: 'abc'"),   # argparse's own check, one line too
    (['--teacher-batch-size', '-1'], '--teacher-batch-size must be'),
    (['--n-train', '0'], '--n-train must be'),
    (['--lr', '0'], '--lr must be'),
    (['--snapshots', '-1'], '--snapshots must be'),
    (['--augment', 'rotate'], '--augment must be'),
    (['--arch', 'resnet18', '--teacher-arch', 'convnet4'], 'give only --teacher-arch'),
])
def test_squeeze_bad_inputs(here, args, msg):
    from delt.squeeze import delt_squeeze
    refused(delt_squeeze, 'delt-squeeze', ['--teacher-epochs', '1', *args, '--out', 't'], msg, here)

def test_distill_writes_the_official_format_on_request(tmp_path, teacher):
    mask = os.umask(0o022)                       # a known umask, inherited by the command: the set's folders are 0755, not 0700
    try: r = run('delt-distill', '--teacher', teacher, '--ipc', '2', '--mi', '4', '--ri', '2', '--mipc', '20', '--format', 'jpg',
            '--batch-size', '8', '--out', tmp_path/'set', '--cache-dir', tmp_path/'cache')
    finally: os.umask(mask)
    assert r.returncode == 0, r.stderr[-2000:]
    assert {oct(p.stat().st_mode & 0o777) for p in [tmp_path/'set', *(tmp_path/'set').rglob('*')] if p.is_dir()} == {oct(0o755)}
    m = json.loads((tmp_path/'set'/'manifest.json').read_text())
    assert m['format'] == 'jpg' and all(i['file'].endswith('.jpg') for i in m['images'])
    assert m['settings']['layout'] == 'class_major' and [i['batch'] for i in m['images'][:10]] == [0] * 8 + [1] * 2
    assert list((tmp_path/'cache'/'rankings').glob('*.pt')) and not list(Path(teacher).glob('ranking*'))   # cached, not in the teacher's folder

def _truncated(teacher, root):
    t = root/'..'/'bad_teacher'; shutil.copytree(teacher, t, dirs_exist_ok=True)
    w = t/'teacher.safetensors'; w.write_bytes(w.read_bytes()[:1000]); return t

@pytest.mark.parametrize('args,msg', [
    (['--layout', 'diagonal'], 'unknown batch layout'),
    (['--batch-size', '0'], '--batch-size must be'),
    (['--format', 'webp'], 'unknown image format'),
    (['--ipc', '0'], '--ipc must be'),
    (['--ipc', '-3'], '--ipc must be'),
    (['--mi', '100', '--ri', '30'], 'not a multiple'),
    (['--mipc', '0'], '--mipc must be'),
    (['--lr', '-0.1'], '--lr must be'),
    (['--jitter', '-1'], '--jitter must be'),
    (['--method', 'dealt'], 'unknown preset'),
    (['--teacher', '/nonexistent/teacher'], 'no teacher at /nonexistent/teacher'),
    (['--teacher', ''], '--teacher DIR is required'),
    (['--teacher', _truncated], 'truncated or corrupt'),
])
def test_distill_bad_inputs(here, teacher, args, msg):
    from delt.distill import delt_distill
    args = [a(teacher, here) if callable(a) else a for a in args]
    refused(delt_distill, 'delt-distill', ['--teacher', teacher, *args, '--out', 'set'], msg, here)

def test_distill_refuses_another_set_unless_overwrite_and_writes_nothing_in_the_project(here, teacher, monkeypatch):
    "An --out elsewhere: the set there and its ranking in the cache (here ~/.cache/delt of a fake home), nothing in the project or the teacher's folder."
    from delt.distill import delt_distill
    from delt.data import source_checkout
    monkeypatch.delenv('DELT_CACHE'); monkeypatch.setenv('HOME', str(here/'home'))
    (here/'set').mkdir(); (here/'set'/'manifest.json').write_text(json.dumps(dict(method='rded', ipc=1, dataset='fashion_mnist')))
    refused(delt_distill, 'delt-distill', ['--teacher', teacher, '--ipc', '1', '--out', 'set'], 'holds another distilled set (it differs in method', here)
    proj = source_checkout(); sha = json.loads((Path(teacher)/'teacher.json').read_text())['sha256'][:16]
    code, out, err = call(delt_distill, '--teacher', teacher, '--ipc', '1', '--mi', '2', '--ri', '1', '--mipc', '10', '--out', 'set', '--quiet', '--overwrite')
    assert code == 0 and json.loads((here/'set'/'manifest.json').read_text())['method'] == 'delt', err
    assert [p.name[:16] for p in (here/'home'/'.cache'/'delt'/'rankings').glob('*.pt')] == [sha]
    assert not list(Path(teacher).glob('ranking*')) and not list((proj/'outputs'/'cache'/'rankings').glob(f'{sha}*'))

def grey_folder(root, size=28, n=(4, 2)):
    "A tiny ImageFolder of 3 classes of 28-px grey images (saved as RGB with equal channels, as many exporters do)."
    rng = np.random.default_rng(0)
    for split, k in zip(('train', 'val'), n):
        for c in 'abc':
            (root/split/c).mkdir(parents=True)
            for j in range(k): Image.fromarray(np.stack([rng.integers(0, 256, (size, size), dtype=np.uint8)] * 3, -1)).save(root/split/c/f'{j}.png')
    return root

def test_folder_without_size_takes_its_files_size(here):
    "folder: without @size: 28 px, 1 channel inferred from the files and said once; the teacher is trained at that size."
    from delt.squeeze import delt_squeeze
    ds = f"folder:{grey_folder(here/'digits')}"
    code, out, err = call(delt_squeeze, '--dataset', ds, '--teacher-epochs', '1', '--teacher-batch-size', '4', '--out', 't', '--no-progress')
    assert code == 0, err
    assert err.count('inferred') == 1 and f'{ds}: 28 px, 1 channel, inferred from its files' in err, err
    spec = json.loads((here/'t'/'teacher.json').read_text())['model']
    assert (spec['im_size'], spec['in_chans'], spec['num_classes']) == (28, 1, 3)

def test_a_size_that_does_not_fit_in_memory_is_refused_with_the_estimate(here):
    from delt.squeeze import delt_squeeze
    ds = f"folder:{grey_folder(here/'digits', n=(1, 1))}@2240"
    refused(delt_squeeze, 'delt-squeeze', ['--dataset', ds, '--out', 't'], 'GiB are free: lower --teacher-batch-size', here/'digits')
    assert not (here/'t').exists()      # (only the folder's measured mean/std went to the cache)

# --- issue 22: no silent wrong result, no late failure -------------------------------------------------------------

def test_a_batch_larger_than_the_set_is_capped_and_the_teacher_trains(here):
    "90 images, the recipe's batch of 256 and drop_last used to make zero optimiser steps and save an untrained teacher."
    from delt.squeeze import delt_squeeze
    ds = f"folder:{grey_folder(here/'digits')}"
    code, out, err = call(delt_squeeze, '--dataset', ds, '--teacher-epochs', '1', '--out', 't', '--no-progress')
    assert code == 0, err
    assert 'a batch of 256 images is more than the 12 training images' in err and 'training in batches of 12' in err, err
    assert 'is grey: the teacher trains with random horizontal flips' in err and '--augment none' in err, err
    meta = json.loads((here/'t'/'teacher.json').read_text())
    assert meta['recipe']['batch_size'] == 12 and meta['history'][0]['train_loss'] > 0        # one step was made (not 0it)
    code, out, err = call(delt_squeeze, '--dataset', ds, '--teacher-epochs', '1', '--out', 't', '--no-progress')
    assert code == 0 and '(reused: trained before with the same settings)' in out, out      # a rerun says it reused the teacher

def test_quiet_means_no_notes_and_no_bars(here):
    from delt.squeeze import delt_squeeze
    ds = f"folder:{grey_folder(here/'digits')}"
    code, out, err = call(delt_squeeze, '--dataset', ds, '--teacher-epochs', '1', '--out', 't', '--quiet')
    assert code == 0 and err == '', err                     # neither the "inferred from its files" note nor any bar
    assert out.strip().startswith('convnet3 teacher on')

def test_an_unreadable_image_is_named(here):
    from delt.squeeze import delt_squeeze
    root = grey_folder(here/'digits'); bad = root/'val'/'b'/'1.png'
    bad.write_bytes(bad.read_bytes()[:80])                                 # truncated, as an interrupted copy leaves it
    refused(delt_squeeze, 'delt-squeeze', ['--dataset', f'folder:{root}@28', '--out', 't'],
            f'{bad}: cannot read this image (image file is truncated): delete it or replace it with a good copy', root)

def test_ctrl_c_is_one_line(here, monkeypatch):
    import delt.squeeze as sq
    def interrupted(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(sq, 'train_teacher', interrupted)
    code, out, err = call(sq.delt_squeeze, '--n-train', '300', '--teacher-epochs', '1', '--out', 't', '--no-progress')
    assert code == 130 and err.strip() == ('delt-squeeze: stopped (Ctrl-C); run the same command to resume from its last '
                                           'checkpoint (finished work is kept)'), err

def test_squeeze_help_lists_the_datasets():
    from delt.squeeze import delt_squeeze
    code, out, _ = call(delt_squeeze, '--help')
    assert code == 0 and all(n in ' '.join(out.split()) for n in ('cifar10', 'tiny_imagenet', 'imagenette', 'folder:<path>')), out

def _out_cases(root):
    (root/'afile').write_text('')
    return [(str(root/'afile'), 'is a file, not a folder'), (str(root/'afile'/'sub'), 'cannot be created'),
            ('/proc/delt_out', 'cannot be written')]

@pytest.mark.parametrize('case', range(3))
def test_an_out_that_cannot_be_written_is_refused_by_every_command(here, teacher, case):
    "An --out that is a file, under a file or unwritable: exit 2, one line, before any work, for every command."
    from delt.squeeze import delt_squeeze
    from delt.distill import delt_distill
    from delt.pipeline import delt_evaluate                  # the console script delt-evaluate (pyproject.toml)
    from delt.pdd import delt_pdd
    from delt.pipeline import delt_run
    from delt.experiments import delt_experiments
    out, msg = _out_cases(here)[case]
    for fn, prog, args in [(delt_squeeze, 'delt-squeeze', []), (delt_distill, 'delt-distill', ['--teacher', teacher]),
                           (delt_evaluate, 'delt-evaluate', ['--teacher', teacher, '--images', str(teacher)]),
                           (delt_pdd, 'delt-pdd', ['--teacher', teacher]),
                           (delt_run, 'python -m delt.pipeline', []), (delt_experiments, 'python -m delt.experiments', ['methods'])]:
        before = files_under(here)
        code, _, err = call(fn, *args, '--out', out, prog=prog)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith(f'{prog}: error: ') and msg in lines[0], (prog, err)
        assert files_under(here) == before, prog

def test_a_teacher_file_that_is_not_a_teacher_and_a_teacher_of_other_classes(here, teacher):
    "Internal names used to leak: 'error: weights' for teacher.json = {}; 'first differences … []' and 'Evaluating it here' from delt-distill."
    from delt.distill import delt_distill
    (here/'empty').mkdir(); (here/'empty'/'teacher.json').write_text('{}')
    refused(delt_distill, 'delt-distill', ['--teacher', here/'empty', '--ipc', '1', '--out', 'set'],
            'is not a teacher file delt wrote (it lacks weights, sha256, model, classes); delete', here)
    root = grey_folder(here/'four'); (root/'train'/'d').mkdir(); (root/'val'/'d').mkdir()
    for s in ('train', 'val'): shutil.copy(root/s/'a'/'0.png', root/s/'d'/'0.png')
    code, _, err = call(delt_distill, '--teacher', teacher, '--dataset', f'folder:{root}@28', '--ipc', '1', '--out', 'set')
    assert code == 2 and ('was trained on 10 classes (T-shirt/top, Trouser, Pullover, Dress, …) and this dataset has 4 (a, b, c, d): '
                          'its predictions would name the wrong classes') in err and 'Evaluating' not in err, err
