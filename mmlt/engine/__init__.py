"""mmlt's run infrastructure, for every run and every toolbox (no toolbox
imports): the runtime of a run (``setup_runtime``: safe checkpoint reading
and the other process-wide changes, made only when called; importing
changes nothing outside mmlt), ``SafeRunner`` (crash-safe saves, the
checkpoint a run starts from), exact resume, distributed training on any
device, and the checks and hooks that turn wrong input into clear errors.
Stage 2 of the decoupled methods is built on it, in ``mmlt.stage2``."""
from .checkpointing import (AtomicLocalBackend, SafeCheckpointHook,
                            latest_complete_checkpoint,
                            with_safe_checkpoint_hook)
from .checks import (ADAPTER_TOOLBOXES, check_checkpoint_matches_model,
                     check_default_scope, check_work_dir_is_free,
                     imported_adapters)
from .checkpoint_io import (UNSAFE_LOAD_ENV, UNSAFE_LOAD_FLAG,
                            UNSAFE_LOAD_HELP, CheckpointLoadError,
                            UnsafeCheckpointError, load_checkpoint_file,
                            read_checkpoint, safe_checkpoint_loader,
                            use_safe_checkpoint_loader)
from .distributed import (DEFAULT_DIST_TIMEOUT, AnyDeviceDDP,
                          DistributedTimeoutError, RankConsistencyHook,
                          explain_collective_timeouts, model_digests,
                          setup_distributed, stop_with_launcher,
                          teardown_distributed)
from .hooks import (CheckpointMatchesModelHook, FiniteLossHook,
                    ResumedSettingsHook)
from .resume import RNGStateHook
from .runner import (AUTO_RESUME, SafeRunner, build_runner,
                     checkpoint_to_start_from, choose_checkpoint_in_config)
from .runtime import setup_runtime

__all__ = [
    'ADAPTER_TOOLBOXES', 'setup_runtime', 'check_checkpoint_matches_model',
    'check_work_dir_is_free', 'ResumedSettingsHook', 'check_default_scope',
    'CheckpointMatchesModelHook', 'FiniteLossHook', 'imported_adapters',
    'AUTO_RESUME', 'SafeRunner', 'build_runner', 'checkpoint_to_start_from',
    'choose_checkpoint_in_config',
    'AnyDeviceDDP', 'RankConsistencyHook', 'model_digests',
    'setup_distributed', 'teardown_distributed', 'RNGStateHook',
    'AtomicLocalBackend', 'SafeCheckpointHook', 'latest_complete_checkpoint',
    'with_safe_checkpoint_hook', 'DEFAULT_DIST_TIMEOUT',
    'DistributedTimeoutError', 'explain_collective_timeouts',
    'stop_with_launcher', 'CheckpointLoadError',
    'UnsafeCheckpointError', 'UNSAFE_LOAD_ENV', 'UNSAFE_LOAD_FLAG', 'UNSAFE_LOAD_HELP',
    'load_checkpoint_file', 'read_checkpoint', 'safe_checkpoint_loader',
    'use_safe_checkpoint_loader'
]
