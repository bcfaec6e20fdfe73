"""What the command-line tests share: run a console script of this venv as a user would."""
import subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent

def run(*args, **kw):
    "Run the console script `args[0]` of this venv with the other args (str()-ed); capture its output."
    return subprocess.run([str(BIN/args[0]), *map(str, args[1:])], capture_output=True, text=True, **kw)
