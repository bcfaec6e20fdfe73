"""The docs site, offline (Quarto is not installed here): every exported function documented and rendered by
`show_doc`, the site configuration, the sidebar, the internal links and nbdev's pre-processing of every notebook —
and proof that the check fails when a notebook is missing from the sidebar, a link is broken or a page cannot be
processed. The check itself lives in `tools/docs.py` (also `python tools/docs.py check`)."""
import dataclasses, importlib, inspect, json, pkgutil, re, shutil, sys
from pathlib import Path
import pytest
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import docs  # noqa: E402

NBS = get_config().nbs_path

def delt_modules():
    import delt
    return [importlib.import_module(f'delt.{m.name}') for m in pkgutil.iter_modules(delt.__path__) if not m.name.startswith('_')]

def exported(mod):
    "(name, object) of each function or class in `mod.__all__` (constants carry no docstring)."
    return [(n, o) for n in getattr(mod, '__all__', []) if callable(o := getattr(mod, n))]

def own_doc(o):
    "`o`'s own docstring: not inherited, not the signature a dataclass writes for itself."
    d = o.__dict__.get('__doc__') if inspect.isclass(o) else getattr(o, '__doc__', None)
    if inspect.isclass(o) and dataclasses.is_dataclass(o) and d and d.startswith(o.__name__ + '('): return None
    return (d or '').strip() or None

def undocumented(mods):
    "Exported functions and classes, and the public methods those classes define, without a docstring."
    out = []
    for mod in mods:
        for n, o in exported(mod):
            if not own_doc(o): out.append(f'{mod.__name__}.{n}')
            if inspect.isclass(o) and o.__module__ == mod.__name__:
                for k, v in vars(o).items():
                    f = v.fget if isinstance(v, property) else getattr(v, '__func__', v)
                    if not k.startswith('_') and (inspect.isfunction(f) or isinstance(v, property)) and not own_doc(f):
                        out.append(f'{mod.__name__}.{n}.{k}')
    return out

def test_every_exported_function_has_a_docstring():
    missing = undocumented(delt_modules())
    assert not missing, 'exported without a docstring (add one in the notebook, then nbdev-export):\n' + '\n'.join(missing)

def test_docstring_check_catches_a_missing_one():
    import types
    m = types.ModuleType('fake'); exec('from dataclasses import dataclass\n'
        'def f(): "doc"\ndef g(): pass\n@dataclass\nclass D: x: int = 0\n'
        'class C:\n    "doc"\n    def ok(self): "doc"\n    def bad(self): pass\n__all__ = ["f", "g", "D", "C"]', m.__dict__)
    m.__name__ = 'fake'
    for o in (m.C, m.D): o.__module__ = 'fake'
    assert undocumented([m]) == ['fake.g', 'fake.D', 'fake.C.bad']

def test_show_doc_renders_every_exported_object():
    from nbdev.showdoc import show_doc
    failed = []
    for mod in delt_modules():
        for n, o in exported(mod):
            try:
                md = show_doc(o)._repr_markdown_()
                assert n.split('.')[-1] in md
            except Exception as e: failed.append(f'{mod.__name__}.{n}: {type(e).__name__}: {e}')
    assert not failed, '\n'.join(failed)

def test_docs_site_builds_offline():
    "The real site: configuration, sidebar, links, and nbdev's pre-processing (what nbdev-docs runs before Quarto)."
    probs = docs.check_docs(NBS)
    assert not probs, 'docs check failed:\n' + '\n'.join(probs)

# --- the check fails on defects: a copy of nbs/ with one defect each ---

@pytest.fixture
def nbs_copy(tmp_path):
    "A copy of nbs/ with its sidebar regenerated: each test adds one defect and looks at what the check newly reports."
    nbs = Path(shutil.copytree(NBS, tmp_path/'nbs', ignore=shutil.ignore_patterns('.*', '_proc', '__pycache__')))
    docs.write_sidebar(nbs)
    return nbs

def new_problems(nbs, before, **kw):
    return [p for p in docs.check_docs(nbs, process=False, **kw) if p not in before]

def add_markdown(nb_path, text):
    nb = json.loads(nb_path.read_text())
    nb['cells'].append(dict(cell_type='markdown', metadata={}, source=[text]))
    nb_path.write_text(json.dumps(nb))

def notebook(path, *cells):
    "Write a minimal notebook of (cell_type, source) cells."
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(nbformat=4, nbformat_minor=5, metadata=dict(kernelspec=dict(name='python3', language='python', display_name='python3')),
        cells=[dict(cell_type=t, metadata={}, source=[s], **(dict(outputs=[], execution_count=None) if t == 'code' else {})) for t, s in cells])))
    return path

def test_notebook_missing_from_sidebar_fails(nbs_copy):
    before = docs.check_docs(nbs_copy, process=False)
    notebook(nbs_copy/'14_extra.ipynb', ('markdown', '# extra\n\n> A new chapter.'))
    notebook(nbs_copy/'experiments'/'bench_new.ipynb', ('markdown', '# bench'))
    probs = new_problems(nbs_copy, before)
    assert len(probs) == 2 and '14_extra.ipynb: not in sidebar.yml' in probs[0] and 'experiments/bench_new.ipynb' in probs[1], probs
    docs.write_sidebar(nbs_copy)                                   # the fix: regenerate, in pipeline order
    assert new_problems(nbs_copy, before) == []
    sec = docs.sidebar_sections(nbs_copy)
    assert sec['Library'][-1] == '14_extra.ipynb' and sec['Experiments'][-1] == 'experiments/bench_new.ipynb'

def test_sidebar_entry_without_a_page_fails(nbs_copy):
    before = docs.check_docs(nbs_copy, process=False)
    (nbs_copy/'05b_viz.ipynb').unlink()
    probs = [p for p in docs.check_sidebar(nbs_copy) if p not in before]
    assert probs == ['sidebar.yml lists 05b_viz.ipynb, which is not a page of nbs/ (run `python tools/docs.py sidebar`)'], probs

@pytest.mark.parametrize('link', ['[the recovery](06_recovr.ipynb)', '[x](recovr.html)', '[x](../outside.md)',
                                  '![grid](figures/missing.png)', '[x](experiments/nothing.ipynb#top)', '[r]: 06_recover.ipnb'])
def test_broken_link_fails(nbs_copy, link):
    before = docs.check_docs(nbs_copy, process=False)
    add_markdown(nbs_copy/'tutorial.ipynb', f'More below.\n\n{link}\n')
    probs = new_problems(nbs_copy, before)
    assert len(probs) == 1 and probs[0].startswith('tutorial.ipynb: broken link'), probs

@pytest.mark.parametrize('link', ['[a](06_recover.ipynb)', '[b](recover.html)', '[c](06_recover.ipynb#the-earlylate-schedule)',
                                  '[d](distill.html)', '[e](experiments/distill.ipynb)', '[f](https://example.org/x.ipynb)',
                                  '[g](#two-commands)', '`[code](not-a-link.ipynb)`', '[h](./index.ipynb)', '[i](recover.html.md)'])
def test_good_links_pass(nbs_copy, link):
    before = docs.check_links(nbs_copy)
    add_markdown(nbs_copy/'tutorial.ipynb', f'See {link}.\n')
    assert docs.check_links(nbs_copy) == before

def test_links_resolve_relative_to_the_page(nbs_copy):
    assert docs.resolve_link(nbs_copy, 'experiments/distill.ipynb', '../06_recover.ipynb') == (nbs_copy/'06_recover.ipynb').resolve()
    assert docs.resolve_link(nbs_copy, 'experiments/distill.ipynb', '06_recover.ipynb') is None
    assert docs.resolve_link(nbs_copy, 'index.ipynb', 'distill.html') == (nbs_copy/'06a_distill.ipynb').resolve()
    assert docs.resolve_link(nbs_copy, 'index.ipynb', 'experiments/distill.html') == (nbs_copy/'experiments/distill.ipynb').resolve()

def test_config_defects_fail(nbs_copy):
    before = docs.check_config(nbs_copy)
    (nbs_copy/'nbdev.yml').write_text((nbs_copy/'nbdev.yml').read_text().replace('delt-dd', 'someone'))
    (nbs_copy/'styles.css').unlink()
    probs = [p for p in docs.check_config(nbs_copy) if p not in before]
    assert len(probs) == 2 and any('nbdev.yml differs' in p for p in probs) and any('css styles.css is missing' in p for p in probs), probs

def test_preprocessing_failure_fails(tmp_path):
    "A cell nbdev executes for the docs (imports mixed with code) that fails out of context is reported, with its page."
    nbs = tmp_path/'nbs'
    notebook(nbs/'index.ipynb', ('markdown', '# home'), ('code', 'x = 1'), ('code', 'import math\nprint(math.pi)'))
    notebook(nbs/'01_bad.ipynb', ('markdown', '# bad'), ('code', '#| export\ndef f():\n    "Documented."'),      # exports: nbdev executes
             ('code', 'y = 2'), ('code', 'import math\nprint(y * math.pi)'))
    res = docs.process_pages(nbs, tmp_path/'out')
    assert res['index.ipynb'] is None and 'NameError' in res['01_bad.ipynb'], res
    assert (tmp_path/'out'/'index.ipynb').exists() and not (tmp_path/'out'/'01_bad.ipynb').exists()

def test_sidebar_order(tmp_path):
    for p in ['tutorial.ipynb', 'index.ipynb', '07a_metrics.ipynb', '06a_distill.ipynb', '06_recover.ipynb', '00_core.ipynb',
              'experiments/report.ipynb', 'experiments/bench_x.ipynb', 'experiments/distill.ipynb', 'experiments/zzz.ipynb',
              'experiments/pdd.ipynb', 'faq.qmd', '_proc/99_skip.ipynb', '.ipynb_checkpoints/skip.ipynb', 'notes.md']:
        (tmp_path/p).parent.mkdir(parents=True, exist_ok=True); (tmp_path/p).write_text('{}')
    assert docs.sidebar_sections(tmp_path) == {
        'Guide': ['index.ipynb', 'tutorial.ipynb', 'faq.qmd'],
        'Library': ['00_core.ipynb', '06_recover.ipynb', '06a_distill.ipynb', '07a_metrics.ipynb'],
        'Experiments': ['experiments/distill.ipynb', 'experiments/pdd.ipynb', 'experiments/report.ipynb',
                        'experiments/bench_x.ipynb', 'experiments/zzz.ipynb']}

# --- the landing page and the README ---

def two_commands(md):
    "The code block under the '## Two commands' heading of markdown `md`."
    m = re.search(r'^## Two commands\s*\n+```\w*\n(.*?)```', md, re.M | re.S)
    assert m, 'no "## Two commands" section with a code block'
    return m.group(1).strip()

def test_readme_and_index_agree_on_the_two_commands():
    index = '\n\n'.join(docs.markdown_texts(NBS/'index.ipynb'))
    readme = (ROOT/'README.md').read_text()
    assert two_commands(readme) == two_commands(index)
    cmds = [l.split('#')[0].strip() for l in two_commands(readme).splitlines()]
    assert cmds == ['make demo', 'make test']
    mk = (ROOT/'Makefile').read_text()
    assert re.search(r'^demo:', mk, re.M) and re.search(r'^test:', mk, re.M)
