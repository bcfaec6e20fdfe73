"""What the command-line tests share: run a console script of this venv as a user would — in a subprocess (`run`, the
real entry point, ~5 s of imports each) or in this process (`call`, the same argument parsing and error handling, no
start-up cost: what the bad-input tests use)."""
import contextlib, io, subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent

def run(*args, **kw):
    "Run the console script `args[0]` of this venv with the other args (str()-ed); capture its output."
    return subprocess.run([str(BIN/args[0]), *map(str, args[1:])], capture_output=True, text=True, **kw)

def call(command, *args, prog=None):
    "Run the `call_parse` function `command` in this process as its console script runs it (sys.argv parsed by fastcore); returns (exit status, stdout, stderr)."
    from fastcore.script import _run_cli
    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = [prog or command.__name__.replace('_', '-'), *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: _run_cli(getattr(command, '__wrapped__', command), False); code = 0
            except SystemExit as e:                       # what the interpreter does with it: an int is the status, a message goes to stderr
                code = e.code if isinstance(e.code, int) or e.code is None else (print(e.code, file=sys.stderr) or 1)
    finally: sys.argv = argv
    return code or 0, out.getvalue(), err.getvalue()

def files_under(root):
    "Every path under `root` (to show that a refused command wrote nothing)."
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob('*'))
