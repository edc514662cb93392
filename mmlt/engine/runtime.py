"""Everything mmlt changes outside itself, in one explicit call.

Importing ``mmlt`` or an adapter (``mmlt.classification``, ...) only
registers components. A run needs a few process-wide changes besides;
``setup_runtime()`` makes them, once per process (a second call changes
only the checkpoint opt-in):

* mmengine's loader of local checkpoints (``load_from``, ``--resume``, the
  checkpoint to test) reads them safely: ``weights_only`` with mmlt's
  allow-list, full unpickling only with ``allow_unsafe_checkpoints``
  (``--unsafe-load``, ``MMLT_UNSAFE_LOAD=1``; ``checkpoint_io``);
* numpy's ``np.float`` alias, which lvis 0.5.3's evaluation uses
  (``compat``);
* an error in a dataset's pipeline names the sample that failed
  (``data_errors``);
* ``_base_ = 'mmlt::<config>'`` resolves to mmlt's configs (``mmlt.mim``);
* the ``pkg_resources is deprecated`` warning that mmengine 0.10 raises
  when it reads a toolbox's config (``mmpretrain::...``) is not shown:
  nothing a user of mmlt can act on (``mmlt.utils.known_warnings``);
* a warning (once per pin) when the installed mmengine changed an internal mmlt
  overrides or depends on (``mmlt.utils.mmengine_internals``).

``tools/train.py``, ``tools/test.py`` (so ``mmlt-train`` / ``mmlt-test``),
``tools/analysis/choose_tau.py`` and mmlt's runners (``SafeRunner``, so
``DisAlignRunner``) call it. A script that builds mmengine's own Runner
calls it first::

    from mmlt.engine import setup_runtime
    setup_runtime()
"""
from typing import Optional

from mmlt.mim import register_mmlt_prefix
from mmlt.utils.known_warnings import silence_pkg_resources_warning

from .checkpoint_io import (current_unsafe_choice, unsafe_load_from_env,
                            use_safe_checkpoint_loader)
from .compat import fix_numpy_aliases_for_lvis
from .data_errors import name_samples_in_pipeline_errors
from ..utils.mmengine_internals import warn_on_changed_internals


def setup_runtime(allow_unsafe_checkpoints: Optional[bool] = None) -> None:
    """Make the process-wide changes of a run (see the module doc).

    Args:
        allow_unsafe_checkpoints: unpickle local checkpoints in full (the
            tools' ``--unsafe-load``). None: keep the choice of an earlier
            call, else ``MMLT_UNSAFE_LOAD=1`` opts in.
    """
    warn_on_changed_internals()
    if allow_unsafe_checkpoints is None:
        allow_unsafe_checkpoints = current_unsafe_choice()
        if allow_unsafe_checkpoints is None:
            allow_unsafe_checkpoints = unsafe_load_from_env()
    use_safe_checkpoint_loader(allow_unsafe=allow_unsafe_checkpoints)
    fix_numpy_aliases_for_lvis()
    name_samples_in_pipeline_errors()
    register_mmlt_prefix()
    silence_pkg_resources_warning()
