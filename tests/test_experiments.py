"""Grids of notebook runs as a user meets them: a grid killed half-way and started again runs only what is missing."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import nbformat, pytest
from delt.experiments import run_grid

def toy_notebook(path):
    "A throwaway papermill notebook: appends x to `log`, then writes out_dir/metrics.json (after a short sleep)."
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('x = 0\nout_dir = None\nlog = None\nsleep = 0.0', metadata=dict(tags=['parameters'])),
                nbformat.v4.new_code_cell('import json, pathlib, time\ntime.sleep(sleep)\n'
                                          'with open(log, "a") as f: f.write(f"{x}\\n")\n'
                                          'pathlib.Path(out_dir, "metrics.json").write_text(json.dumps(dict(x=x)))')]
    nb.metadata['kernelspec'] = dict(name='python3', display_name='python3', language='python')
    nbformat.write(nb, path)
    return path

GRID = """import sys
from delt.experiments import run_grid
run_grid(sys.argv[1], dict(x=[1, 2, 3]), sys.argv[2], params=dict(log=sys.argv[3], sleep=1.0), progress=False)
"""

def test_interrupted_grid_completes_only_missing_runs(tmp_path):
    nb, out, log = toy_notebook(tmp_path/'toy.ipynb'), tmp_path/'grid', tmp_path/'log.txt'
    p = subprocess.Popen([sys.executable, '-c', GRID, str(nb), str(out), str(log)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while not (out/'x-1'/'metrics.json').exists():               # kill the grid once its first run is done
            assert p.poll() is None, p.stderr.read().decode()[-3000:]
            assert time.time() - t0 < 120, 'the first run never finished'
            time.sleep(0.05)
    finally: os.killpg(p.pid, signal.SIGKILL)                        # the grid and its kernel (they share a session)
    p.wait()
    assert not (out/'x-3'/'metrics.json').exists()                   # killed half-way
    first = (out/'x-1'/'toy.ipynb').stat().st_mtime_ns
    st = run_grid(nb, dict(x=[1, 2, 3]), out, params=dict(log=str(log), sleep=1.0), progress=False)
    assert {k: r['status'] for k, r in st['runs'].items()} == {'x-1': 'done', 'x-2': 'done', 'x-3': 'done'}
    assert all(json.loads((out/f'x-{i}'/'metrics.json').read_text()) == dict(x=i) for i in (1, 2, 3))
    runs = log.read_text().split()
    assert runs.count('1') == 1 and runs.count('3') == 1             # the finished run was not run again
    assert (out/'x-1'/'toy.ipynb').stat().st_mtime_ns == first
    assert json.loads((out/'grid_status.json').read_text())['runs']['x-3']['status'] == 'done'

def test_failures_are_recorded_and_the_grid_goes_on(tmp_path):
    nb, out = toy_notebook(tmp_path/'toy.ipynb'), tmp_path/'grid'
    st = run_grid(nb, [dict(x=1, log='/nonexistent/dir/log.txt'), dict(x=2)], out, params=dict(log=str(tmp_path/'log.txt')), progress=False)
    assert st['runs']['x-1_log-.nonexistent.dir.log.txt']['status'] == 'failed'
    assert 'FileNotFoundError' in st['runs']['x-1_log-.nonexistent.dir.log.txt']['error']
    assert st['runs']['x-2']['status'] == 'done'

def test_cli_refuses_unknown_experiment():
    r = subprocess.run([sys.executable, '-m', 'delt.experiments', 'nonesuch'], capture_output=True, text=True)
    assert r.returncode != 0 and "no experiment 'nonesuch'" in r.stderr and 'Traceback' not in r.stderr

@pytest.mark.parametrize('params,msg', [
    ('epochs=3', "methods has no parameter 'epochs' (did you mean eval_epochs?)"), ('eval_epochs=abc', 'methods takes a number for eval_epochs'),
    ('methods=delt', 'takes a list'), ('seeds=0', 'seeds must be'), ('ipcs=[]', 'ipcs must be a non-empty list'), ('n_test=0', 'n_test must be')])
def test_runner_checks_params_before_anything_runs(tmp_path, monkeypatch, params, msg):
    "python -m delt.experiments, in this process: the notebook's parameters cell decides names and kinds; one line, exit 2, nothing run or written."
    sys.path.insert(0, str(Path(__file__).parent)); from clitools import call, files_under
    from delt.experiments import delt_experiments
    monkeypatch.chdir(tmp_path)
    code, out, err = call(delt_experiments, 'methods', '--params', params, '--out', 'grid', prog='python -m delt.experiments')
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith('python -m delt.experiments: error: ') and msg in lines[0], err
    assert files_under(tmp_path) == []

def test_dry_run_lists_the_runs_and_writes_nothing(tmp_path, monkeypatch, capfd):
    "The plan and the dataset, and nothing else: no papermill log, no kernel start-up warnings (the kernel writes to fd 2)."
    from clitools import call
    from delt.experiments import delt_experiments
    monkeypatch.chdir(tmp_path)
    code, out, err = call(delt_experiments, 'methods', '--dry-run', '--smoke', '--out', 'grid', '--params', 'ipcs=[1,2]')
    assert code == 0 and err == '' and capfd.readouterr().err == '', err
    assert 'methods on fashion_mnist: 4 runs (0 done), nothing run' in out and f"todo  {tmp_path/'grid'/'method-rded_ipc-2'}" in out, out
    assert not (tmp_path/'grid').exists()

def test_papermill_sees_every_parameter_of_every_experiment():
    "papermill -p works (no 'unknown parameter' warning) only for the lines its parser reads: e.g. no '=' inside a comment or a string."
    import papermill
    from delt.experiments import default_params
    for nb in sorted(Path(__file__).parent.parent.glob('nbs/experiments/*.ipynb')):
        assert set(default_params(nb)) <= set(papermill.inspect_notebook(str(nb))), nb.name
