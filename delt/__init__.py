__version__ = "0.0.1"
# Before any delt module imports torchvision or timm: make them importable over a CPU-only torch (see nbs/00_core.ipynb).
from .core import ensure_torchvision as _ensure_torchvision
_ensure_torchvision()
