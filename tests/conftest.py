"""What the tests share: the default-scope isolation of every module, and
the LT-Digits data of the end-to-end runs, made once per session (the
tests only read it). Helpers live beside it (``tiny_runs``,
``real_formats``, ...); this folder is on ``sys.path`` through it."""
import pytest
from mmengine.registry import DefaultScope


def _scopes():
    return DefaultScope._instance_dict


@pytest.fixture(scope='module', autouse=True)
def no_default_scope_from_other_modules():
    """A Runner (or init_default_scope) leaves its toolbox as mmengine's
    current default scope, and building from another toolbox's registry
    then looks in the wrong one: each test module starts with none."""
    _scopes().clear()
    yield
    _scopes().clear()


@pytest.fixture(autouse=True)
def no_default_scope_from_other_tests():
    """Within a module, a test sees the scopes its module's fixtures made,
    not those an earlier test left."""
    before = dict(_scopes())
    yield
    _scopes().clear()
    _scopes().update(before)


def _lt_digits(tmp_path_factory, task: str, write_frequency) -> str:
    """LT-Digits of one task, its frequency file written by
    ``write_frequency(folder)``: the data root, ending in '/'."""
    from mmlt.lt_digits import make_lt_digits
    root = tmp_path_factory.mktemp(f'lt_digits_{task}')
    make_lt_digits(root, tasks=(task, ))
    write_frequency(root / task)
    return str(root / task) + '/'


@pytest.fixture(scope='session')
def lt_digits_seg(tmp_path_factory) -> str:
    """LT-Digits segmentation (ADE20K layout) with ``pixel_frequency.json``.
    """
    from mmlt.core.frequency import from_segmentation_maps
    from mmlt.lt_digits import LT_DIGITS_SEG_CLASSES
    return _lt_digits(
        tmp_path_factory, 'seg', lambda seg: from_segmentation_maps(
            seg / 'annotations' / 'training', num_classes=11,
            classes=LT_DIGITS_SEG_CLASSES,
            reduce_zero_label=True).save(seg / 'pixel_frequency.json'))


@pytest.fixture(scope='session')
def lt_digits_det(tmp_path_factory) -> str:
    """LT-Digits detection (LVIS v1 layout) with
    ``lvis_v1_train_frequency.json``."""
    from mmlt.core.frequency import from_lvis_json
    return _lt_digits(
        tmp_path_factory, 'det', lambda det: from_lvis_json(
            det / 'annotations' / 'lvis_v1_train.json').save(
                det / 'lvis_v1_train_frequency.json'))


@pytest.fixture(scope='session')
def tiny_lt_digits_cls(tmp_path_factory):
    """LT-Digits classification cut to 16 training images per class
    (``tiny_runs.tiny_cls_data``)."""
    from tiny_runs import tiny_cls_data
    return tiny_cls_data(tmp_path_factory.mktemp('lt_digits_cls'))


@pytest.fixture(scope='session')
def cls_data_24(tmp_path_factory):
    """LT-Digits classification cut to 24 training images per class."""
    from tiny_runs import tiny_cls_data
    return tiny_cls_data(tmp_path_factory.mktemp('cls_data_24'), 24)


@pytest.fixture(scope='session')
def cls_stage1_ckpt(cls_data_24, tmp_path_factory):
    """configs/demo/cls_stage1.py trained for 2 epochs on
    ``cls_data_24``: its checkpoint, the stage 1 of the stage-2 runs of
    the classification tests."""
    from mmengine.runner import Runner
    from tiny_runs import two_epoch_config
    work_dir = tmp_path_factory.mktemp('cls_stage1')
    Runner.from_cfg(two_epoch_config('cls_stage1', cls_data_24,
                                     work_dir)).train()
    return work_dir / 'epoch_2.pth'


@pytest.fixture(scope='module')
def safe_checkpoint_loader():
    """mmengine's local checkpoint loader as the tools set it (weights_only
    with mmlt's allow-list), for a plain Runner that loads a checkpoint."""
    from mmlt.engine import safe_checkpoint_loader
    with safe_checkpoint_loader():
        yield
