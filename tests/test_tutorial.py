"""The tutorial is a papermill notebook too: its checks compute their expectations from its parameters, so a reader can
change them (issue: `-p mi 20 -p ri 10` used to fail on hard-coded schedule values)."""
import papermill as pm
from delt.data import source_checkout

def test_tutorial_runs_with_changed_parameters(tmp_path):
    nbs = source_checkout()/'nbs'
    pm.execute_notebook(str(nbs/'tutorial.ipynb'), str(tmp_path/'tutorial.ipynb'), cwd=str(nbs), progress_bar=False,
                        parameters=dict(mi=30, ri=10, ipc=4, n_real=2000, mipc=30, student_epochs=10, n_test=300))
