"""Run every notebook's tests (what `nbdev-test` runs) as one pytest test per notebook."""
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook_tests

NBS = get_config().nbs_path
FLAGS = get_config().tst_flags.split()
NOTEBOOKS = sorted(p for p in Path(NBS).rglob('*.ipynb') if not any(part.startswith(('.', '_')) for part in p.relative_to(NBS).parts))

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb):
    ok, secs = run_notebook_tests(nb, skip_flags=FLAGS, showerr=True)
    assert ok, f'{nb} failed (see the traceback above)'
