"""The library's shape, read from its source: a chapter imports only earlier chapters (no circle, no reach upward,
no module imported by a name in a string), and library lines are at most 120 characters (but the two lines nbdev writes itself). The chapter order is the
notebooks' order in `nbs/` (`NN[a-z]_name.ipynb` with `#| default_exp`); each check is shown to fail on a made-up
module that breaks it."""
import ast, json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB, NBS, WIDTH = ROOT/'delt', ROOT/'nbs', 120

def chapter_order(nbs=NBS):
    "{module: position} from the notebooks' names (sorted) and each one's `#| default_exp`."
    order = {}
    for nb in sorted(nbs.glob('[0-9]*.ipynb')):
        src = ''.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
        if m := re.search(r'^#\|\s*default_exp\s+(\w+)', src, re.M): order[m[1]] = len(order)
    return order

def imported(src):
    "The delt modules `src` imports (relative or absolute, at the top or inside a function), and string imports."
    mods, strings = set(), []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module: mods.add(node.module.split('.')[0])
            elif node.level == 1: mods.update(a.name for a in node.names)
            elif (node.module or '').startswith('delt.'): mods.add(node.module.split('.')[1])
            elif node.module == 'delt': mods.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            mods.update(a.name.split('.')[1] for a in node.names if a.name.startswith('delt.'))
        elif isinstance(node, ast.Call) and getattr(node.func, 'attr', getattr(node.func, 'id', '')) in (
                'import_module', '__import__'):
            strings.append(ast.unparse(node))
    return mods, strings

def upward(order, sources):
    "'a imports b' for each import of a chapter at or after a's place, and each import by a string."
    bad = []
    for mod, src in sources.items():
        mods, strings = imported(src)
        bad += [f'{mod} imports {m}' for m in sorted(mods) if m in order and order[m] >= order[mod]]
        bad += [f'{mod} imports by string: {s}' for s in strings]
    return bad

def library_sources():
    return {p.stem: p.read_text() for p in LIB.glob('*.py') if not p.stem.startswith('_')}

def test_every_module_is_a_chapter():
    assert set(library_sources()) == set(chapter_order())

def test_chapters_import_only_earlier_chapters():
    bad = upward(chapter_order(), library_sources())
    assert not bad, 'upward imports (move the name down to an earlier chapter):\n' + '\n'.join(bad)

def test_upward_check_catches_reaches_and_circles():
    order = {'core': 0, 'data': 1, 'sets': 2, 'pdd': 3}
    srcs = {'core': 'import os', 'data': 'from .core import *',
            'sets': 'def f():\n    from .pdd import Base\n',            # a function-local reach upward
            'pdd': 'from delt.sets import x\nimport importlib\nm = importlib.import_module("delt.gm")'}
    assert upward(order, srcs) == ['sets imports pdd', 'pdd imports by string: importlib.import_module(\'delt.gm\')']

def generated(i, line):
    "A line nbdev writes itself, one per module: the chapter's summary as the module docstring, and `__all__`."
    return (i == 1 and line.startswith('"""')) or line.startswith('__all__ = ')

def long_lines(sources, width=WIDTH):
    return [f'{m}.py:{i}: {len(l)} characters' for m, s in sorted(sources.items())
            for i, l in enumerate(s.splitlines(), 1) if len(l) > width and not generated(i, l)]

def test_library_lines_are_at_most_120_characters():
    bad = long_lines(library_sources())
    assert not bad, f'{len(bad)} lines wider than {WIDTH} (break them in the notebook, then nbdev-export):\n' + '\n'.join(bad[:30])

def test_width_check_catches_a_long_line():
    assert long_lines({'m': 'x = 1\n' + 'y' * 121}) == ['m.py:2: 121 characters']
    assert long_lines({'m': '"""' + 'd' * 130 + '"""\n__all__ = [' + "'a', " * 40 + ']'}) == []   # nbdev's own lines
