"""Keep library lines within 120 characters, in the notebooks (the source of truth), changing nothing a program sees.

    python tools/width.py nbs/06_recover.ipynb ...   # rewrap the export cells of these notebooks in place
    python tools/width.py --check nbs/*.ipynb         # list the long lines left (exit 1 if any)

Only export cells (`#| export`, `#| exports`) are touched, and only their long lines, in five steps:
1. a docstring line is rewrapped at a space (a one-line `"..."` docstring becomes a `\"\"\"...\"\"\"` one);
2. a trailing comment is pulled closer to its code, or else moved onto its own line(s) just above it (for a
   `call_parse` parameter, fastcore's `docments` reads a comment on the lines above a parameter as its help too;
   check that the first parameter of a `def` keeps its comment on its own line);
3. a long full-line comment is rewrapped;
4. a long code line is broken, in this order of preference: the string literals that cross the width re-filled
   (implicit concatenation, aligned), `a; b` split, `if x: y` turned into a block when that is enough, a long
   `a or b` / `x if c else y` / tuple put in brackets, a break after the shallowest comma or before an operator
   (aligned under its bracket), and last a break after an opening bracket;
5. a short fragment such a break leaves is joined to the next line of the same bracket.
Each cell's AST must come out unchanged (docstrings compared with their whitespace normalised), or the tool stops.
What is left (a long string literal, a line inside a multi-line string) is printed for a person to break."""
import ast, io, json, sys, textwrap, tokenize
from pathlib import Path

WIDTH = 120
EXPORT = ('#| export', '#| exports', '#|export', '#|exports')

def is_export(src): return src.lstrip().startswith(EXPORT)

def docstring_lines(tree):
    "{line: (first line, last line, indent)} of every docstring in `tree`."
    out = {}
    for n in ast.walk(tree):
        body = getattr(n, 'body', None)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            e = body[0]
            if isinstance(e, ast.Expr) and isinstance(e.value, ast.Constant) and isinstance(e.value.value, str):
                for i in range(e.lineno, e.end_lineno + 1): out[i] = (e.lineno, e.end_lineno, e.col_offset)
    return out

def split_at(text, width):
    "`text` cut at the last space before `width` (or the first space after): (head, tail)."
    cut = text.rfind(' ', 0, width + 1)
    if cut <= 0: cut = text.find(' ', width)
    if cut <= 0: return text, ''
    return text[:cut].rstrip(), text[cut + 1:].lstrip()

def wrap_docstrings(src):
    "Rewrap each long docstring line; a long one-line docstring becomes a triple-quoted one."
    lines = src.split('\n'); tree = ast.parse(src); docs = docstring_lines(tree); out = []
    for i, l in enumerate(lines, 1):
        if len(l) <= WIDTH or i not in docs: out.append(l); continue
        first, last, col = docs[i]; pad = ' ' * col
        if first == last and l.strip()[:1] in '"\'' and l.strip()[:3] not in ('"""', "'''"):
            q = l.strip()[0]; body = l.strip()[1:-1]
            if not l.rstrip().endswith(q) or '\\' in body: out.append(l); continue
            l = f'{pad}"""{body}"""'
        rest, indent = l, (pad if i == first else ' ' * (len(l) - len(l.lstrip())))
        while len(rest) > WIDTH:
            head, tail = split_at(rest, WIDTH)
            if not tail: break
            out.append(head); rest = indent + tail
        out.append(rest)
    return '\n'.join(out)

def comments(src):
    "{line: column} of each comment token."
    return {t.start[0]: t.start[1] for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type == tokenize.COMMENT}

def comment_block(text, indent):
    "`# text` wrapped to the width at `indent`."
    return textwrap.wrap(text, WIDTH - len(indent) - 2, break_long_words=False, break_on_hyphens=False) or ['']

def move_comments(src):
    "A long line's trailing comment: two spaces from its code if that fits, else on its own lines above it."
    lines, cm, out = src.split('\n'), comments(src), []
    for i, l in enumerate(lines, 1):
        if len(l) <= WIDTH or i not in cm: out.append(l); continue
        code, com = l[:cm[i]].rstrip(), l[cm[i]:]
        text, indent = com.lstrip('#').strip(), ' ' * (len(l) - len(l.lstrip()))
        if not code.strip():                                  # a full-line comment: rewrap it
            out += [f'{indent}# {w}' for w in comment_block(text, indent)]
        elif code.startswith(EXPORT): out.append(l)
        elif len(code) + 2 + len(com) <= WIDTH: out.append(code + ' ' * min(cm[i] - len(code), WIDTH - len(code) - len(com)) + com)
        elif out and out[-1].rstrip().endswith('\\'): out.append(l)   # a comment cannot sit inside a continuation
        else: out += [f'{indent}# {w}' for w in comment_block(text, indent)] + [code]
    return '\n'.join(out)

OPEN, CLOSE = '([{', ')]}'
BEFORE = {'and', 'or', 'if', 'else', 'for', '+'}          # a line may also break before these, inside brackets

def indent_of(src, n):
    l = src.split('\n')[n - 1]
    return len(l) - len(l.lstrip())

def line_tokens(src, n):
    """The tokens of line `n` as (token, depth before it, where a continuation inside the innermost open bracket starts:
    just after the bracket when it opened on this line, else this line's indent; None outside brackets)."""
    depth, stack, out = 0, [], []
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        if t.start[0] == n and t.type not in (tokenize.INDENT, tokenize.DEDENT):
            out.append((t, depth, None if not stack else stack[-1][1] if stack[-1][0] == n else indent_of(src, n)))
        if t.type == tokenize.OP and t.string in OPEN: depth += 1; stack.append(t.end)
        elif t.type == tokenize.OP and t.string in CLOSE: depth -= 1; stack.pop()
        if t.start[0] > n: break
    return out

def break_points(toks, width):
    """(kind, depth, column, indent of the next line) of each place the line may break: after a comma, before an
    operator (inside brackets), after an opening bracket."""
    pts = []
    for k, (t, d, col) in enumerate(toks):
        nxt = toks[k + 1][0] if k + 1 < len(toks) else None
        if nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT) or nxt.string in CLOSE: continue
        if t.end[1] > width: break
        if t.type == tokenize.OP and t.string == ',' and d > 0: pts.append(('comma', d, t.end[1], col))
        elif t.type == tokenize.OP and t.string in OPEN: pts.append(('open', d, t.end[1], None))
        if nxt.string in BEFORE and toks[k + 1][1] > 0:
            pts.append(('for' if nxt.string == 'for' else 'op', toks[k + 1][1], t.end[1], toks[k + 1][2]))
    return pts

def all_tokens(src):
    "Every token of `src` as (token, depth before it)."
    depth, out = 0, []
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        out.append((t, depth))
        if t.type == tokenize.OP and t.string in OPEN: depth += 1
        elif t.type == tokenize.OP and t.string in CLOSE: depth -= 1
    return out

def _parts(t):
    "(prefix, quote, body) of a one-line string token, or None (triple-quoted, raw, bytes)."
    m = 0
    while t.string[m] not in '"\'': m += 1
    pre, q = t.string[:m].lower(), t.string[m]
    if t.string[m:m + 3] in ('"""', "\'\'\'") or pre not in ('', 'f') or t.start[0] != t.end[0]: return None
    return pre, q, t.string[m + 1:-1]

def _words(body, f):
    "`body` cut after each space that is outside an f-string's braces."
    out, cur, depth = [], '', 0
    for ch in body:
        cur += ch
        if f: depth += (ch == '{') - (ch == '}')
        if ch == ' ' and depth == 0: out.append(cur); cur = ''
    return out + ([cur] if cur else [])

def reflow_strings(src, n):
    "`src` with the implicitly concatenated string literals that cross the width on line `n` re-filled, or None."
    toks = all_tokens(src); lines = src.split('\n')
    k = next((i for i, (t, d) in enumerate(toks) if t.type == tokenize.STRING and t.start[0] == n
              and t.start[1] < WIDTH < t.end[1] and d > 0 and t.start[1] <= 90), None)
    if k is None: return None
    a = b = k
    while a > 0 and toks[a - 1][0].type in (tokenize.STRING, tokenize.NL):
        a -= 1
    while b + 1 < len(toks) and toks[b + 1][0].type in (tokenize.STRING, tokenize.NL):
        b += 1
    after = toks[b + 1][0] if b + 1 < len(toks) else None
    if after is not None and not (after.string in (')', ',', ']', '}', 'from') or after.type in (tokenize.NEWLINE,
                                                                                              tokenize.COMMENT)):
        return None                                        # a string inside a larger expression: break elsewhere
    group = [t for t, _ in toks[a:b + 1] if t.type == tokenize.STRING]
    parts = [_parts(t) for t in group]
    if None in parts or len({q for _, q, _ in parts}) > 1: return None
    f, q = any(p == 'f' for p, _, _ in parts), parts[0][1]
    body = ''.join(x if p == 'f' or not f else x.replace('{', '{{').replace('}', '}}') for p, _, x in parts)
    c0, room = group[0].start[1], WIDTH - group[0].start[1] - 3
    chunks, cur = [], ''
    for w in _words(body, f):
        if cur and len(cur) + len(w) > room: chunks.append(cur); cur = ''
        cur += w
    chunks.append(cur)
    lit = lambda x: ('f' if f and ('{' in x or '}' in x) else '') + q + x + q
    first, last = group[0], group[-1]
    new = lines[first.start[0] - 1][:c0] + ('\n' + ' ' * c0).join(map(lit, chunks)) + lines[last.end[0] - 1][last.end[1]:]
    out = '\n'.join(lines[:first.start[0] - 1] + [new] + lines[last.end[0]:])
    return out if out != src else None

COMPOUND = {'if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'def'}

def to_block(src, n):
    "A one-line compound statement on line `n` (`if x: y`) as a block (`if x:` / `    y`), or None."
    lines = src.split('\n'); line = lines[n - 1]; toks = line_tokens(src, n)
    indent = len(line) - len(line.lstrip())
    if not toks or toks[0][0].string not in COMPOUND or toks[0][1] != 0 or toks[0][0].start[1] != indent: return None
    k = next((i for i, (t, d, _) in enumerate(toks) if t.type == tokenize.OP and t.string == ':' and d == 0), None)
    if k is None or k + 1 >= len(toks) or toks[k + 1][0].type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
        return None
    c, body = toks[k][0].end[1], toks[k + 1][0].start[1]
    shift = body - (indent + 4)
    rest, m = lines[n:], 0                      # continuation lines of the same statement move left with it
    for t, _ in all_tokens(src):
        if t.type == tokenize.NEWLINE and t.start[0] >= n: m = t.start[0]; break
        if t.type == tokenize.STRING and t.start[0] >= n and t.start[0] != t.end[0]: return None
    for j in range(n, m):
        l = rest[j - n]
        if l[:shift].strip() == '': rest[j - n] = l[shift:]
    return '\n'.join(lines[:n - 1] + [line[:c], ' ' * (indent + 4) + line[c:].lstrip()] + rest)

def paren_wrap(src, n):
    "Line `n` with a `(…)` around its long depth-0 expression (after `if`/`return`/`=`…), so that it can break."
    lines = src.split('\n'); line = lines[n - 1]; toks = line_tokens(src, n)
    if not toks or toks[0][1] != 0: return None
    if toks[0][0].string in ('if', 'elif', 'while', 'return', 'assert'): s0 = 1
    else:
        s0 = next((i + 1 for i, (t, d, _) in enumerate(toks) if t.type == tokenize.OP and t.string == '=' and d == 0), None)
    if s0 is None or s0 >= len(toks): return None
    end = next((i for i, (t, d, _) in enumerate(toks[s0:], s0) if d == 0 and (t.type in (tokenize.NEWLINE, tokenize.COMMENT,
               tokenize.NL) or t.string == ':' and toks[0][0].string in ('if', 'elif', 'while'))), None)
    if end is None or not any(d == 0 and (t.string in ('and', 'or', 'if', ',', '+') or t.type == tokenize.STRING
                                          and t.start[1] < WIDTH < t.end[1]) for t, d, _ in toks[s0:end]): return None
    a, b = toks[s0][0].start[1], toks[end - 1][0].end[1]
    return '\n'.join(lines[:n - 1] + [line[:a] + '(' + line[a:b] + ')' + line[b:]] + lines[n:])

def split_statements(src, n):
    "Line `n` of simple statements `a; b` as two lines (not after `if x:`, where both belong to the block), or None."
    lines = src.split('\n'); line = lines[n - 1]; toks = line_tokens(src, n)
    if not toks or toks[0][1] != 0 or toks[0][0].string in COMPOUND: return None
    semis = [t.start[1] for t, d, _ in toks if t.type == tokenize.OP and t.string == ';' and d == 0 and t.start[1] < WIDTH]
    if not semis: return None
    c, ind = semis[-1], ' ' * indent_of(src, n)
    return '\n'.join(lines[:n - 1] + [line[:c].rstrip(), ind + line[c + 1:].lstrip()] + lines[n:])

def fits(src, n, k):
    "Whether lines n … n+k-1 of `src` are within the width."
    return all(len(l) <= WIDTH for l in src.split('\n')[n - 1:n - 1 + k])

def wrap_line(src, n):
    """`src` with its long line `n` broken once, or None. In order: re-fill the string literals that cross the width;
    split `a; b`; turn a one-line `if x: y` into a block when that is enough; put a long `a or b` in brackets; break at
    the shallowest comma or operator inside brackets (rightmost); turn `if x: y` into a block anyway; break after an
    opening bracket."""
    if (new := reflow_strings(src, n)) is not None: return new
    if (new := split_statements(src, n)) is not None: return new
    if (new := to_block(src, n)) is not None and fits(new, n, 2): return new
    if (new := paren_wrap(src, n)) is not None: return new
    lines = src.split('\n'); line = lines[n - 1]; toks = line_tokens(src, n)
    indent = len(line) - len(line.lstrip()); pts = break_points(toks, WIDTH)
    ok = [p for p in pts if p[0] in ('comma', 'op', 'for') and p[2] >= indent + 20 and (p[3] or 0) <= 70]
    p = min(ok, key=lambda p: (p[1], ('for', 'comma', 'op').index(p[0]), -p[2])) if ok else None
    if p is None:
        if (new := to_block(src, n)) is not None: return new
        ok = [p for p in pts if p[0] == 'open' and p[2] > indent + 4 and len(line) - p[2] >= 40]
        p = max(ok, key=lambda p: p[2]) if ok else None
    if p is None: return None
    c, i = p[2], p[3] if p[3] is not None else indent + 4
    new = line[:c].rstrip() + '\n' + ' ' * i + line[c:].lstrip()
    return '\n'.join(lines[:n - 1] + [new] + lines[n:])

def wrap_code(src):
    "Break each long code line until it fits (or cannot be broken: left for a person)."
    stuck = set()
    for _ in range(500):
        long = [i for i, l in enumerate(src.split('\n'), 1) if len(l) > WIDTH and l not in stuck]
        if not long: break
        n = long[0]; line = src.split('\n')[n - 1]
        try: new = wrap_line(src, n)
        except (tokenize.TokenError, IndentationError, StopIteration): new = None
        if new is None or not _same(new, src): stuck.add(line); continue
        src = new
    return src

def _same(a, b):
    try: return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError: return False

def join_fragments(src):
    """Join a short continuation line left by a break (`…, x,` after a line of over 100 characters) to the next line
    of the same bracket when both fit on one line."""
    lines = src.split('\n'); i = 1
    while i < len(lines) - 1:
        a, b, prev = lines[i], lines[i + 1], lines[i - 1]
        ind = len(a) - len(a.lstrip())
        if (a.rstrip().endswith(',') and len(a.strip()) < 40 and ind > 0 and len(prev) > 100
                and prev.rstrip().endswith(',') and len(b) - len(b.lstrip()) == ind and '#' not in a
                and len(a.rstrip()) + 1 + len(b.strip()) <= WIDTH):
            new = lines[:i] + [a.rstrip() + ' ' + b.strip()] + lines[i + 2:]
            if _same('\n'.join(new), src): lines = new; src = '\n'.join(lines); continue
        i += 1
    return '\n'.join(lines)

def fix_cell(src):
    "The four steps on one export cell's source; the AST must not change (docstrings aside)."
    before = ast.dump(ast.parse(src))
    new = wrap_code(move_comments(wrap_docstrings(src)))
    for _ in range(3):                                       # a wrapped line may carry a comment past the width
        new = wrap_code(move_comments(new))
    new = join_fragments(new)
    strip = lambda t: ast.dump(_no_docstrings(ast.parse(t)))
    if strip(new) != strip(src): raise AssertionError('the rewrap changed the code:\n' + src[:300])
    return new if new != src else src

def _no_docstrings(tree):
    for n in ast.walk(tree):
        body = getattr(n, 'body', None)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            e = body[0]
            if isinstance(e, ast.Expr) and isinstance(e.value, ast.Constant) and isinstance(e.value.value, str):
                e.value.value = ' '.join(inspect_clean(e.value.value).split())
    return tree

def inspect_clean(s):
    import inspect
    return inspect.cleandoc(s)

def long_lines(path):
    nb = json.loads(Path(path).read_text())
    return [(c.get('id'), l) for c in nb['cells'] if c['cell_type'] == 'code' and is_export(''.join(c['source']))
            for l in ''.join(c['source']).split('\n') if len(l) > WIDTH]

def fix_notebook(path):
    "Rewrap the export cells of notebook `path` in place; the number of long lines before and after."
    p = Path(path); nb = json.loads(p.read_text()); n0 = len(long_lines(p))
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or not is_export(src): continue
        c['source'] = fix_cell(src).splitlines(keepends=True)
    p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return n0, len(long_lines(p))

if __name__ == '__main__':
    args = sys.argv[1:]
    if args and args[0] == '--check':
        left = [(nb, i, l) for nb in args[1:] for i, l in long_lines(nb)]
        for nb, i, l in left: print(f'{nb} cell {i}: {len(l)} characters: {l.strip()[:80]}…')
        sys.exit(1 if left else 0)
    for nb in args:
        a, b = fix_notebook(nb); print(f'{nb}: {a} long lines → {b}')
