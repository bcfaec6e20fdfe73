"Build notebooks from (kind, source) cells."
import json, uuid
def cell(kind, src):
    src = src.strip('\n')
    c = dict(cell_type=kind, id=uuid.uuid4().hex[:8], metadata={}, source=src.splitlines(keepends=True))
    if kind == 'code': c.update(execution_count=None, outputs=[])
    return c
def write(path, cells):
    nb = dict(cells=[cell(k, s) for k, s in cells], metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
              nbformat=4, nbformat_minor=5)
    json.dump(nb, open(path, 'w'), indent=1, ensure_ascii=False); open(path, 'a').write('\n')
def parse(text):
    "Cells from a text with '##! md' / '##! code' separators."
    out, kind, buf = [], None, []
    for line in text.splitlines():
        if line.startswith('##! '):
            if kind: out.append((kind, '\n'.join(buf)))
            kind, buf = {'md': 'markdown', 'code': 'code'}[line[4:].strip()], []
        else: buf.append(line)
    if kind: out.append((kind, '\n'.join(buf)))
    return out
def edit(path, changes=None, insert_after=None, delete=()):
    "Replace sources of cells by id (`changes`), insert [(after_id, kind, src), ...], delete ids; keeps everything else."
    nb = json.load(open(path))
    cells = nb['cells']
    for c in cells:
        if changes and c.get('id') in changes:
            c['source'] = changes[c['id']].strip('\n').splitlines(keepends=True)
            if c['cell_type'] == 'code': c['outputs'] = []; c['execution_count'] = None
    for after, kind, src in (insert_after or []):
        i = [c.get('id') for c in cells].index(after)
        cells.insert(i + 1, cell(kind, src))
    nb['cells'] = [c for c in cells if c.get('id') not in delete]
    json.dump(nb, open(path, 'w'), indent=1, ensure_ascii=False); open(path, 'a').write('\n')
