"""The experiment notebooks as papermill runs them: parameters injected into a real run, and full values that replace
every tiny default (a full-scale run must never inherit a smoke-test value)."""
import json
from pathlib import Path
import nbformat, pytest
from delt.experiments import experiment_notebook, full_params, default_params, run_experiment, RUN_PARAMS
from delt.pipeline import RunConfig, run, ConfigError

OURS = ['distill', 'methods', 'ablations', 'cross_arch', 'compute', 'diversity', 'pdd', 'report']
DRIVERS = ['methods', 'ablations', 'cross_arch', 'compute', 'diversity']

def test_distill_notebook_takes_injected_parameters(tmp_path):
    out = run_experiment('distill', dict(method='rded', ipc=1, mipc=10, eval_epochs=1, n_test=200), tmp_path/'run', smoke=True, log_output=False)
    nb = nbformat.read(out/'distill.ipynb', as_version=4)
    assert any('injected-parameters' in c.metadata.get('tags', []) for c in nb.cells)
    m = json.loads((out/'metrics.json').read_text())
    assert (m['method'], m['ipc'], m['eval_epochs'], m['n_test'], m['image_iterations']) == ('rded', 1, 1, 200, 0)
    assert m['config']['mipc'] == 10 and m['config']['n_train'] == 2000          # injected, and the tiny default kept
    assert (out/'images.png').stat().st_size > 1000 and (out/'set'/'manifest.json').exists()

@pytest.mark.parametrize('name', OURS)
def test_full_values_are_parameters(name):
    nb = experiment_notebook(name)
    full, tiny = full_params(nb), default_params(nb)
    assert full and set(full) <= set(tiny), sorted(set(full) - set(tiny))
    if name != 'report': assert full['out_dir'].startswith('outputs/') and tiny['out_dir'] is None

@pytest.mark.parametrize('name', DRIVERS)
def test_drivers_pass_every_full_value_on(name):
    "What distill.ipynb's full values change, a driver passes on at full scale too (or fixes on purpose, like eval_epochs = 0)."
    dfull, dtiny = full_params(experiment_notebook('distill')), default_params(experiment_notebook('distill'))
    full, tiny = full_params(experiment_notebook(name)), default_params(experiment_notebook(name))
    for k, v in dfull.items():
        if k in ('out_dir', 'ipc', 'mi', 'ri', 'seeds') or (k == 'eval_epochs' and tiny.get(k) == 0): continue
        assert k in RUN_PARAMS and k in tiny, k                                   # passed to every run
        assert full.get(k, tiny[k]) == v, (k, full.get(k, tiny[k]), v)           # at full scale, the same value
    for k in ('mipc', 'n_test', 'n_train', 'teacher_epochs', 'teacher_batch_size'): assert full.get(k, 'unset') is None, k
    if tiny.get('eval_epochs') != 0: assert full['seeds'] == dfull['seeds'] and full['eval_epochs'] == dfull['eval_epochs']

def test_bad_config_is_refused_before_anything_is_written(tmp_path):
    for bad, msg in [(dict(mi=20, ri=40), 'cannot exceed'), (dict(mosaic=3), 'divide the image size'), (dict(student_arch='resnet181'), 'unknown architecture'),
                     (dict(method='dealt'), 'unknown preset'), (dict(ipc=0), 'ipc must be a whole number ≥ 1'), (dict(epochs=3), 'unknown settings')]:
        with pytest.raises(ConfigError, match=msg): run(dict(out_dir=str(tmp_path/'run'), **bad))
        assert not (tmp_path/'run').exists()

def test_run_from_a_shell_refuses_bad_settings_in_one_line(tmp_path):
    "python -m delt.pipeline (what make demo runs): a bad setting or missing data is one line on stderr and exit status 2."
    import sys
    sys.path.insert(0, str(Path(__file__).parent)); from clitools import run as cli
    for params, msg in [('ipc=2 mi=20 ri=40', 'cannot exceed'), ('dataset=folder:/no/such/folder@28', 'does not exist')]:
        r = cli('python', '-m', 'delt.pipeline', '--params', params, '--out', tmp_path/'run')
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('python -m delt.pipeline: error: ') and msg in lines[0], r.stderr[-2000:]
        assert not (tmp_path/'run').exists()

@pytest.mark.parametrize('params,msg', [
    ('ipc=0', 'ipc must be a whole number ≥ 1, not 0'), ('eval_epochs=-1', 'eval_epochs must be a whole number ≥ 0'), ('seeds=0', 'seeds must be a count'),
    ('seeds=[]', 'seeds must be'), ('n_test=abc', 'n_test must be a whole number'), ('epochs=3', 'epochs: did you mean'),
    ('teacher_epochs=0', 'teacher_epochs must be'), ('lr=0', 'lr must be a number > 0'),
    ('ipc=two', "ipc must be a whole number ≥ 1, not 'two'")])
def test_run_refuses_bad_settings_in_process(tmp_path, monkeypatch, params, msg):
    "python -m delt.pipeline, in this process: one line under the real command's name, exit 2, nothing written."
    import sys
    sys.path.insert(0, str(Path(__file__).parent)); from clitools import call, files_under
    from delt.pipeline import delt_run
    monkeypatch.chdir(tmp_path); monkeypatch.setenv('DELT_CACHE', str(tmp_path/'cache'))
    code, _, err = call(delt_run, '--params', params, '--out', 'run', prog='python -m delt.pipeline')
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith('python -m delt.pipeline: error: ') and msg in lines[0], err
    assert files_under(tmp_path) == []

def test_help_names_the_command_as_typed_and_lists_the_settings():
    import sys
    sys.path.insert(0, str(Path(__file__).parent)); from clitools import run as cli
    r = cli('python', '-m', 'delt.pipeline', '--help')
    text = ' '.join(r.stdout.split())
    assert r.returncode == 0 and r.stdout.startswith('usage: python -m delt.pipeline '), r.stdout[:300]
    assert all(k in text for k in ('the settings: dataset,', 'teacher_epochs', 'eval_preset', 'cache_dir')), text

def test_every_module_draws_its_bars_from_core():
    "One owner of the progress bars: every delt module that shows one uses delt.core.tqdm (the --no-progress switch, logs)."
    import importlib, pkgutil, delt, delt.core
    mods = [importlib.import_module(f'delt.{m.name}') for m in pkgutil.iter_modules(delt.__path__) if not m.name.startswith('_')]
    users = [m.__name__ for m in mods if hasattr(m, 'tqdm')]
    assert {'delt.data', 'delt.squeeze', 'delt.recover', 'delt.pipeline', 'delt.experiments'} <= set(users), users
    assert [u for u in users if getattr(importlib.import_module(u), 'tqdm') is not delt.core.tqdm] == []
