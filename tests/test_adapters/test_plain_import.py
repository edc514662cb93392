"""Importing mmlt or an adapter only registers components: in a fresh
interpreter, what mmlt's runtime changes (mmengine's checkpoint loader,
config-path lookup and dataset sample preparation, numpy's ``np.float``,
``sys.meta_path``, the warning filters) is the same before and after the
import; ``setup_runtime()`` then changes each of them."""
import json
import subprocess
import sys

import pytest

from tiny_runs import REPO

SNAPSHOT = """
import json, sys, warnings
import numpy as np
import mmengine.config, mmengine.dataset, mmengine.runner.checkpoint as ckpt

def snapshot():
    return dict(
        loader=repr(ckpt.CheckpointLoader._schemes.get('')),
        cfg_path=repr(mmengine.config.Config.__dict__['_get_cfg_path']),
        prepare_data=repr(mmengine.dataset.BaseDataset.prepare_data),
        np_float='float' in np.__dict__,
        meta_path=[repr(f) for f in sys.meta_path],
        warning_filters=len(warnings.filters))

import importlib
# the toolbox's own import changes what it changes: imported first
for toolbox in sys.argv[2:]:
    importlib.import_module(toolbox)
before = snapshot()
importlib.import_module(sys.argv[1])
after = snapshot()
from mmlt.engine import setup_runtime
setup_runtime()
print(json.dumps(dict(before=before, after=after, setup=snapshot())))
"""


PARTS = ('apis', 'datasets', 'engine', 'evaluation', 'models', 'registry',
         'structures')
TOOLBOXES = {
    'mmlt': [],
    'mmlt.engine': [],
    'mmlt.stage2': [],
    'mmlt.classification': [f'mmpretrain.{p}' for p in PARTS],
    'mmlt.segmentation': [f'mmseg.{p}' for p in PARTS],
    'mmlt.detection': [f'mmdet.{p}' for p in PARTS],
}


@pytest.mark.parametrize('module', list(TOOLBOXES))
def test_importing_changes_nothing_outside_mmlt(module):
    out = subprocess.run(
        [sys.executable, '-c', SNAPSHOT, module, *TOOLBOXES[module]],
        cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found['after'] == found['before']
    # the runtime changes every one of them but sys.meta_path
    changed = {key for key in found['before']
               if found['setup'][key] != found['before'][key]}
    assert changed == {'loader', 'cfg_path', 'prepare_data', 'np_float',
                       'warning_filters'}
