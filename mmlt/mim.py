"""Where mmlt's configs and tools are, and the ``mmlt::`` config prefix.

A wheel ships ``configs/`` and ``tools/`` inside the package, in
``mmlt/.mim/`` as the OpenMMLab packages do (``setup.py`` copies them at
build time); a checkout (``pip install -e .``) uses the repo's own.

``_base_ = 'mmlt::demo/cls_stage1.py'`` works once
:func:`register_mmlt_prefix` ran (``mmlt.engine.setup_runtime`` calls it;
the tools and ``mmlt-train`` / ``mmlt-test`` do). mmengine's own
``package::`` lookup cannot serve mmlt: it knows only the packages of its
``MODULE2PACKAGE`` table, and it sets ``_scope_ = <package>`` on every
inherited config dict, while mmlt's configs belong to the mmdet, mmseg or
mmpretrain scope (each keeps its own ``default_scope``) and mmlt has no
registry of its own. So ``mmlt::`` resolves to the config file and adds no
scope: the config is inherited exactly as by path.
"""
import functools
import os.path as osp

from mmlt.utils.mmengine_internals import relies_on

PREFIX = 'mmlt::'
_PACKAGE_DIR = osp.dirname(osp.abspath(__file__))


def resource_dir(name: str) -> str:
    """``mmlt/.mim/<name>`` in an installed wheel, else the checkout's
    ``<repo>/<name>`` (editable install or source tree)."""
    for path in (osp.join(_PACKAGE_DIR, '.mim', name),
                 osp.join(osp.dirname(_PACKAGE_DIR), name)):
        if osp.isdir(path):
            return path
    raise FileNotFoundError(
        f'mmlt\'s {name}/ is neither in {osp.join(_PACKAGE_DIR, ".mim")} '
        f'(a wheel) nor next to the package (a checkout): reinstall mmlt.')


def config_root() -> str:
    """The folder of mmlt's configs (``demo/``, ``imagenet_lt/``, ...)."""
    return resource_dir('configs')


def get_config_path(name: str) -> str:
    """Absolute path of one of mmlt's configs: ``'demo/cls_stage1.py'`` or
    ``'mmlt::demo/cls_stage1.py'``."""
    if name.startswith(PREFIX):
        name = name[len(PREFIX):]
    path = osp.join(config_root(), name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'mmlt has no config {name!r} (looked for {path}).')
    return path


# wrapped below (the wrapper keeps it as __wrapped__)
relies_on('mmengine.config.Config._get_cfg_path', '6cae4181dcfe32de')


def register_mmlt_prefix() -> bool:
    """Let mmengine's ``Config`` resolve ``_base_ = 'mmlt::<config>'``.

    Idempotent; returns False where it was already registered."""
    from mmengine.config import Config

    original = Config._get_cfg_path
    if getattr(original, '_mmlt_prefix', False):
        return False

    @functools.wraps(original)
    def _get_cfg_path(cfg_path, filename):
        if isinstance(cfg_path, str) and cfg_path.startswith(PREFIX):
            # no scope: each mmlt config keeps its own default_scope
            return get_config_path(cfg_path), None
        return original(cfg_path, filename)

    _get_cfg_path._mmlt_prefix = True
    Config._get_cfg_path = staticmethod(_get_cfg_path)
    return True
