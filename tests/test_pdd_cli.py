"""`delt-pdd` end to end, run as a user runs it: a tiny teacher (with snapshots and forgetting scores), a 2-stage run,
its resume, progressive evaluation of the result, and the inputs it must refuse before any work."""
import hashlib, json, shutil, subprocess, sys
from pathlib import Path
import pytest

from clitools import BIN, run, call, files_under
N_TRAIN = 1000

@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp('teacher')/'t'
    r = run('delt-squeeze', '--n-train', N_TRAIN, '--teacher-epochs', '2', '--teacher-batch-size', '50', '--snapshots', '2', '--forgetting', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (out/'forgetting.pt').exists() and (out/'teacher_ep1.json').exists()
    return out

def pdd(teacher, out, *extra):
    return run('delt-pdd', '--dataset', 'fashion_mnist', '--teacher', teacher, '--n-train', N_TRAIN, '--stages', '2', '--ipc-per-stage', '1',
               '--mi', '4', '--ri', '2', '--out', out, '--device', 'cpu', '--no-progress', *extra)

def manifest(d): return json.loads((d/'manifest.json').read_text())
def digest(d): return {p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((d/'images').rglob('*.png'))}

@pytest.fixture(scope='module')
def pdd_run(teacher, tmp_path_factory):
    out = tmp_path_factory.mktemp('pdd')/'run'
    r = pdd(teacher, out, '--teacher-stages')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'real data per stage' in r.stdout and str(out/'stage_2') in r.stdout
    return out

def test_stages_are_cumulative_and_labelled(pdd_run):
    m1, m2 = manifest(pdd_run/'stage_1'), manifest(pdd_run/'stage_2')
    assert [r['stage'] for r in m2['images']] == [1, 2] * 10 and [r['label'] for r in m2['images']] == [c for c in range(10) for _ in (1, 2)]
    assert [r['stage'] for r in m1['images']] == [1] * 10 and (m1['ipc'], m2['ipc']) == (1, 2)
    d1, d2 = digest(pdd_run/'stage_1'), digest(pdd_run/'stage_2')
    assert all(d2[f] == h for f, h in d1.items())                       # stage-1 images unchanged in the stage-2 set
    recs = m2['pdd']['records']
    assert [r['teacher'] for r in recs] == ['teacher_ep1', 'teacher_ep2']
    assert m2['pdd']['real_fractions'] == [1.0, 1.0] and m2['pdd']['forgetting'] is None
    assert not set(recs[0]['drawn']) & set(recs[1]['drawn'])
    assert sorted(p.name for p in pdd_run.iterdir()) == ['run.json', 'stage_1', 'stage_2']

def test_resume_at_the_first_unfinished_stage(pdd_run, teacher, tmp_path):
    out = tmp_path/'run'; shutil.copytree(pdd_run, out)
    before = digest(out/'stage_2'); shutil.rmtree(out/'stage_2')
    t1 = (out/'stage_1'/'manifest.json').stat().st_mtime_ns
    r = pdd(teacher, out, '--teacher-stages')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'resuming at stage 2' in r.stdout and 'stage 1/2' not in r.stdout
    assert (out/'stage_1'/'manifest.json').stat().st_mtime_ns == t1 and digest(out/'stage_2') == before   # same set as uninterrupted
    r = pdd(teacher, out, '--teacher-stages')                                                            # all done: nothing to redo
    assert r.returncode == 0 and 'stage 2/2' not in r.stdout
    r = pdd(teacher, out)                                                                                # other settings: refused
    assert r.returncode != 0 and 'other settings' in r.stderr and 'Traceback' not in r.stderr

def test_progressive_evaluation_of_the_result(pdd_run, tmp_path):
    ev = lambda images, out, *x: run('delt-evaluate', '--images', images, '--protocol', 'hard', '--eval-epochs', '2', '--seeds', '1',
                                     '--n-test', '200', '--no-random', '--no-progress', '--out', out, *x)
    r = ev(pdd_run/'stage_2', tmp_path/'eval', '--schedule', 'progressive')
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path/'eval'/'metrics.json').read_text())
    assert (m['schedule'], m['stage_epochs'], m['stage_images']) == ('progressive', [1, 1], [10, 20])
    plain = tmp_path/'plain'; shutil.copytree(pdd_run/'stage_2', plain)
    mp = manifest(plain); [row.pop('stage') for row in mp['images']]; (plain/'manifest.json').write_text(json.dumps(mp))
    r = ev(plain, tmp_path/'eval2', '--schedule', 'sequential')
    assert r.returncode != 0 and 'no stage indices' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path/'eval2').exists()

def test_evaluate_command_is_pdds_evaluation(pdd_run, tmp_path):
    "delt-evaluate --schedule on a delt-pdd set runs `evaluate_stages` (one code path): the same training, loss by loss."
    from delt.pipeline import delt_evaluate
    from delt.evaluate import spaced_subset
    from delt.data import get_dataset
    from delt.pdd import evaluate_stages, PDD_STUDENT
    code, out, err = call(delt_evaluate, '--images', pdd_run/'stage_2', '--protocol', 'hard', '--schedule', 'progressive',
                          '--epochs-per-stage', '1', '--eval-every', '1', '--seeds', '1', '--n-test', '200', '--device', 'cpu',
                          '--no-progress', '--out', tmp_path/'ev')
    assert code == 0, err[-2000:]
    m, runs = (json.loads((tmp_path/'ev'/f).read_text()) for f in ('metrics.json', 'runs.json'))
    ev = evaluate_stages(pdd_run/'stage_2', spaced_subset(get_dataset('fashion_mnist', 'test'), 200), 'progressive', seeds=1,
                         epochs_per_stage=1, eval_every=1, device='cpu', progress=False)
    assert (m['protocol'], m['student'], m['acc_final']) == ('pdd', PDD_STUDENT, ev['acc_final']) and 'PDD protocol' in out
    assert [[h['loss'] for h in hs] for hs in runs.values()] == [[h['loss'] for h in hs] for hs in ev['runs'].values()]

@pytest.mark.parametrize('extra,msg', [
    (['--stages', '0'], '--stages must be a whole number ≥ 1'),
    (['--ipc-per-stage', '0'], '--ipc-per-stage must be a whole number ≥ 1'),
    (['--forgetting-bins', '0'], '--forgetting-bins must be'),
    (['--mi', '-4'], '--mi must be'),
    (['--base', 'mtt'], 'unknown base'),
    (['--forgetting-bins', '100'], 'leave stage 2'),             # every image has score < 100: stage 2 gets none
    (['--teacher-stages', '--stages', '3'], '--snapshots 3'),   # the teacher kept 2 snapshots
    (['--teacher', '/no/such/teacher'], 'no teacher at'),
])
def test_bad_inputs_fail_before_work(teacher, tmp_path, extra, msg):
    "In this process, as the console script runs it: exit 2, one line naming the mistake, nothing written."
    from delt.pdd import delt_pdd
    before = files_under(tmp_path)
    code, _, err = call(delt_pdd, '--dataset', 'fashion_mnist', '--teacher', teacher, '--n-train', N_TRAIN, '--stages', '2', '--ipc-per-stage', '1',
                        '--mi', '4', '--ri', '2', '--out', tmp_path/'run', '--cache-dir', tmp_path/'cache', '--device', 'cpu', '--no-progress', *extra)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith('delt-pdd: error: ') and msg in lines[0], err
    assert files_under(tmp_path) == before

def test_forgetting_partition(teacher, tmp_path):
    out = tmp_path/'run'
    r = pdd(teacher, out, '--stages', '1', '--forgetting-bins', '1')           # one stage: it takes every score
    assert r.returncode == 0, r.stderr[-3000:]
    m = manifest(out/'stage_1')
    assert m['pdd']['forgetting']['width'] == 1 and m['pdd']['real_fractions'] == [1.0] and 'real data per stage: 100.0%' in r.stdout

def test_forgetting_scores_of_another_training_set(teacher, tmp_path):
    out = tmp_path/'run'
    r = run('delt-pdd', '--teacher', teacher, '--forgetting-bins', '3', '--out', out, '--no-progress')   # full data, not the teacher's
    assert r.returncode != 0 and 'not on this training set' in r.stderr and not out.exists()

def test_gradient_matching_base_from_the_cli(teacher, tmp_path):
    "The batch-to-batch bases are reachable from `delt-pdd --base`; frozen stage-1 images stay byte-identical."
    out = tmp_path/'gm'
    r = run('delt-pdd', '--dataset', 'fashion_mnist', '--teacher', teacher, '--n-train', N_TRAIN, '--stages', '2', '--ipc-per-stage', '1',
            '--base', 'gradient_matching', '--iterations', '2', '--transition-epochs', '2', '--out', out, '--device', 'cpu', '--no-progress')
    assert r.returncode == 0, r.stderr[-3000:]
    m2 = manifest(out/'stage_2')
    assert [r['stage'] for r in m2['images']] == [1, 2] * 10
    assert (m2['settings']['transition'], m2['settings']['transition_epochs'], m2['settings']['momentum_net']) == ('progressive', 2, 0.0)
    d1, d2 = digest(out/'stage_1'), digest(out/'stage_2')
    assert all(d2[f] == h for f, h in d1.items())
    from safetensors.torch import load_file
    f1, f2 = (load_file(str(out/f'stage_{i}'/'images.safetensors'))['images'] for i in (1, 2))
    assert (f2[:, :1] == f1).all()                                        # stage 1 bit-exact in float in the stage-2 set

def test_idc_base_from_the_cli(teacher, tmp_path):
    "PDD over IDC from `delt-pdd --base idc`: multi-formation settings recorded, stage 1 kept in float; evaluated by IDC's routine."
    out = tmp_path/'idc'
    r = run('delt-pdd', '--dataset', 'fashion_mnist', '--teacher', teacher, '--n-train', N_TRAIN, '--stages', '2', '--ipc-per-stage', '1',
            '--base', 'idc', '--iterations', '1', '--inner-loop', '1', '--transition-epochs', '1', '--out', out, '--device', 'cpu', '--no-progress')
    assert r.returncode == 0, r.stderr[-3000:]
    m2 = manifest(out/'stage_2')
    assert (m2['base'], m2['settings']['factor'], m2['settings']['metric'], m2['settings']['transition']) == ('idc', 2, 'l1', 'progressive')
    from safetensors.torch import load_file
    f1, f2 = (load_file(str(out/f'stage_{i}'/'images.safetensors'))['images'] for i in (1, 2))
    assert (f2[:, :1] == f1).all()
    r = run('delt-evaluate', '--images', out/'stage_2', '--schedule', 'progressive', '--epochs-per-stage', '1', '--seeds', '1',
            '--n-test', '100', '--device', 'cpu', '--no-progress', '--out', tmp_path/'ev')
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path/'ev'/'metrics.json').read_text())
    assert (m['protocol'], m['stage_images'], m['epochs_per_stage']) == ('pdd', [10, 20], 1) and 'PDD protocol' in r.stdout

def test_no_transition_is_a_setting_of_the_run(teacher, tmp_path):
    "PDD's 'without transition' ablation from the command line."
    out = tmp_path/'gm'
    r = run('delt-pdd', '--dataset', 'fashion_mnist', '--teacher', teacher, '--n-train', N_TRAIN, '--stages', '2', '--ipc-per-stage', '1',
            '--base', 'gradient_matching', '--iterations', '1', '--no-transition', '--out', out, '--device', 'cpu', '--no-progress')
    assert r.returncode == 0, r.stderr[-3000:]
    assert manifest(out/'stage_2')['settings']['transition'] == 'none'

def test_no_condition_is_a_setting_of_the_run(teacher, pdd_run, tmp_path):
    "PDD's ablation from the command line: --no-condition reaches the base and the manifest says so."
    r = pdd(teacher, tmp_path/'nc', '--no-condition')
    assert r.returncode == 0, r.stderr[-2000:]
    assert manifest(tmp_path/'nc'/'stage_2')['settings']['condition'] is False
    assert manifest(pdd_run/'stage_2')['settings']['condition'] is True
