"""mmlt's fixes for the stack on today's torch and numpy: each test shows the
breakage without the fix (in a fresh interpreter) and the fix working."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmlt.engine import compat


def run_python(code, cwd=None):
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture(scope='module')
def mmengine_checkpoint(tmp_path_factory):
    # What a Runner writes: a message hub holding a HistoryBuffer.
    from mmengine.logging import MessageHub
    hub = MessageHub('compat-test')
    hub.update_scalar('train/loss', 1.5)
    path = tmp_path_factory.mktemp('ckpt') / 'epoch_1.pth'
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': hub.state_dict(),
                'meta': {'epoch': 1}}, path)
    return str(path)


LOAD = ('from mmengine.runner.checkpoint import _load_checkpoint; '
        'print(_load_checkpoint({path!r})["message_hub"]["log_scalars"]'
        '["train/loss"].current())')


@pytest.mark.skipif(not compat.torch_defaults_to_weights_only(),
                    reason='the breakage exists on torch >= 2.6 only')
def test_mmengine_checkpoint_fails_without_fix(mmengine_checkpoint):
    # importing mmlt changes nothing: mmengine's own loader refuses it
    result = run_python('import mmlt.classification, mmlt.detection, '
                        'mmlt.segmentation; ' +
                        LOAD.format(path=mmengine_checkpoint))
    assert result.returncode != 0
    assert 'HistoryBuffer' in result.stderr


def test_mmengine_checkpoint_loads_with_fix(mmengine_checkpoint):
    # what tools/train.py and tools/test.py call: the safe loader
    result = run_python('from mmlt.engine import setup_runtime; '
                        'setup_runtime(); ' +
                        LOAD.format(path=mmengine_checkpoint))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == '1.5'


def tiny_lvis(tmp_path):
    gt = dict(
        images=[dict(id=1, width=10, height=10, neg_category_ids=[],
                     not_exhaustive_category_ids=[])],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[1, 1, 4, 4],
                          area=16, segmentation=[[1, 1, 5, 1, 5, 5, 1, 5]])],
        categories=[dict(id=1, name='a', frequency='r', image_count=1,
                         instance_count=1, synset='a', synonyms=['a'],
                         **{'def': ''})])
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    return path


LVIS_EVAL = '''
import sys
from lvis import LVIS, LVISEval, LVISResults
gt = LVIS({path!r})
dt = LVISResults(gt, [dict(image_id=1, category_id=1, bbox=[1, 1, 4, 4],
                           score=0.9)])
ev = LVISEval(gt, dt, 'bbox')
ev.run()
print(round(ev.results['AP'], 3))
'''


def test_lvis_eval_fails_on_numpy2_without_fix(tmp_path):
    import numpy as np
    if np.lib.NumpyVersion(np.__version__) < '1.24.0':
        pytest.skip('np.float exists on this numpy')
    result = run_python(LVIS_EVAL.format(path=str(tiny_lvis(tmp_path))))
    assert result.returncode != 0
    assert "has no attribute 'float'" in result.stderr


def test_lvis_eval_works_with_fix(tmp_path):
    # what the tools call (a script that builds its own Runner too)
    code = ('from mmlt.engine import setup_runtime\nsetup_runtime()\n' +
            LVIS_EVAL.format(path=str(tiny_lvis(tmp_path))))
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == '1.0'


def test_importing_the_adapters_adds_no_numpy_alias():
    result = run_python('import numpy as np, mmlt.classification, '
                        'mmlt.detection, mmlt.segmentation; '
                        'print(hasattr(np, "float"))')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(
        np.lib.NumpyVersion(np.__version__) < '1.24.0')


def test_numpy_fix_leaves_an_existing_alias_alone(monkeypatch):
    import numpy as np
    sentinel = object()
    monkeypatch.setattr(np, 'float', sentinel, raising=False)
    assert compat.fix_numpy_aliases_for_lvis() is False
    assert np.float is sentinel
