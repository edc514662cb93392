#!/usr/bin/env bash
# Set up what is missing for mmlt in the current Python environment (or the
# one named by PYTHON=...), then install mmlt itself in development mode.
# Safe to re-run: every step is skipped when what it installs already works.
# The versions are those of requirements/ (see README "Setup").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP="$PY -m pip"
say() { echo "[mmlt setup] $*"; }
works() { "$PY" -c "$1" >/dev/null 2>&1; }

say "using $($PY -c 'import sys; print(sys.executable, sys.version.split()[0])')"

# 1. torch and torchvision. '===' takes PyPI's build (the CUDA one, which
# also runs without a GPU) rather than a local '+cpu' build, whose torch
# lacks the ops PyPI's torchvision needs.
if works "
import torch, torchvision
from torchvision.ops import nms
assert torch.__version__.split('+')[0] == '2.13.0'
assert torchvision.__version__.split('+')[0] == '0.28.0'
nms(torch.rand(2, 4), torch.rand(2), 0.5)"; then
    say "torch 2.13.0 / torchvision 0.28.0: present"
else
    say "installing torch 2.13.0 and torchvision 0.28.0 from PyPI (about 5 GB with its CUDA libraries; runs on CPU too)"
    $PIP install "torch===2.13.0" "torchvision==0.28.0"
fi

# 2. Build tools and mmengine. setuptools<82 keeps pkg_resources, which
# mmengine needs at run time (mmdet:: config bases) and mmcv to build.
if works "
import pkg_resources, mmengine
assert mmengine.__version__ == '0.10.7'"; then
    say "mmengine 0.10.7 and setuptools<82: present"
else
    say "installing setuptools<82, wheel, ninja and mmengine 0.10.7"
    $PIP install "setuptools<82" wheel ninja "mmengine==0.10.7"
fi

# 3. mmcv 2.1.0 with its compiled ops (RoIAlign, nms): mmdet 3.3 and mmseg
# 1.2.2 need mmcv < 2.2 and PyPI has no wheel of it for this torch.
if works "
import mmcv, mmcv.ops
assert mmcv.__version__ == '2.1.0'"; then
    say "mmcv 2.1.0 with ops: present"
else
    say "installing mmcv 2.1.0 with ops: a wheel from pip's cache or PIP_FIND_LINKS if there is one, else built from source (about 25 minutes on 2 cores, once: pip caches the wheel)"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} $PIP install --no-build-isolation "mmcv==2.1.0"
fi

# 4. The toolboxes and the rest.
if works "
import mmdet, mmseg, mmpretrain, lvis, ftfy, regex, mlxtend, sklearn, pytest, matplotlib
import mmseg.models, mmdet.models, mmpretrain.models
assert (mmdet.__version__, mmseg.__version__, mmpretrain.__version__) == ('3.3.0', '1.2.2', '1.2.0')"; then
    say "mmdet 3.3.0, mmsegmentation 1.2.2, mmpretrain 1.2.0 and extras: present"
else
    say "installing mmdet 3.3.0, mmsegmentation 1.2.2, mmpretrain 1.2.0, lvis, ftfy, regex, mlxtend, scikit-learn, pytest"
    $PIP install "mmdet==3.3.0" "mmsegmentation==1.2.2" "mmpretrain==1.2.0" \
        -r requirements/optional.txt -r requirements/tests.txt
fi

# 5. mmlt itself, editable, so configs' custom_imports find it anywhere.
if works "
import mmlt, os
from importlib.metadata import entry_points
assert os.path.samefile(os.path.dirname(mmlt.__file__), 'mmlt')
# an install from before the console scripts: reinstall
assert {'mmlt-train', 'mmlt-test'} <= {e.name for e in entry_points(group='console_scripts')}" && [ "$(cd /tmp && $PY -c 'import mmlt, os; print(os.path.dirname(os.path.dirname(mmlt.__file__)))' 2>/dev/null)" = "$PWD" ]; then
    say "mmlt (this checkout, editable): present"
else
    say "installing mmlt from this checkout (editable)"
    $PIP install --no-deps --no-build-isolation -e .
fi
say "done"
