"""The docs site as a reader sees it: `tools/docs.py build` (what `make docs` runs without Quarto) renders every page of
the sidebar into outputs/docs/site once per session; headless Chromium (Debian's `chromium`) opens the landing page and
`06_recover`, writes their screenshots to outputs/docs/, and reports images that failed to load; every internal link and
image source of every page must reach a file. Skipped, saying why, where Chromium or nbconvert is missing."""
import json, re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import docs  # noqa: E402

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
SHOTS = ROOT/'outputs'/'docs'

def browser(*args, timeout=90):
    "Run headless Chromium with `args`; its stdout."
    r = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1280,1400',
                        '--virtual-time-budget=5000', *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

@pytest.fixture(scope='session')
def site():
    pytest.importorskip('nbconvert', reason='nbconvert is not installed: pip install -c constraints.txt -e ".[test]"')
    return docs.build_site(docs._nbs(), ROOT/docs.SITE)

def test_every_sidebar_page_is_built_and_every_internal_link_resolves(site):
    listed = [p for pgs in docs.sidebar_sections_listed(docs._nbs()).values() for p in pgs]
    assert listed and all((site/docs.html_name(p)).is_file() for p in listed)
    assert docs.check_site(site) == []
    home = (site/'index.html').read_text()
    assert [s for s in re.findall(r'<h2>([^<]+)</h2>', home)] == list(docs.sidebar_sections_listed(docs._nbs()))   # sections, in order

@pytest.mark.skipif(CHROMIUM is None, reason='no Chromium: apt-get install -y chromium (Debian) to run the browser checks')
@pytest.mark.parametrize('page', ['index.ipynb', '06_recover.ipynb'])
def test_pages_render_in_a_browser(site, page):
    name = docs.html_name(page); url = (site/name).resolve().as_uri()
    dom = browser('--dump-dom', url)
    assert re.search(r'data-broken-images="0"', dom), 'images failed to load (or the page did not finish loading)'
    SHOTS.mkdir(parents=True, exist_ok=True); shot = SHOTS/f'{Path(name).stem}.png'
    shot.unlink(missing_ok=True); browser(f'--screenshot={shot}', url)
    assert shot.stat().st_size > 20_000                                       # a rendered page, not a blank one

def test_site_check_catches_a_broken_link_and_a_missing_image(tmp_path):
    "A two-page site: built clean, then a link to a page that does not exist and an image that is not there are reported."
    pytest.importorskip('nbconvert', reason='nbconvert is not installed')
    import nbformat
    nbs = tmp_path/'nbs'; nbs.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# Home\n[core](00_core.ipynb)')]), nbs/'index.ipynb')
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# core\nback [home](index.ipynb)'),
                                                   nbformat.v4.new_code_cell('#| export\ndef f(x):\n    "Doubles."\n    return 2 * x')]),
                   nbs/'00_core.ipynb')
    (nbs/'sidebar.yml').write_text(docs.sidebar_yaml(nbs))
    site = docs.build_site(nbs, tmp_path/'site')
    assert sorted(p.name for p in site.iterdir()) == ['core.html', 'index.html'] and docs.check_site(site) == []
    core = (site/'core.html').read_text()
    assert 'href="index.html"' in core and '<code>f(x)</code><p>Doubles.</p>' in core and '#| export' not in core
    (site/'index.html').write_text((site/'index.html').read_text().replace('</main>', '<a href="cor.html">x</a><img src="missing.png"></main>'))
    assert docs.check_site(site) == ['index.html: href cor.html reaches no file', 'index.html: src missing.png reaches no file']
