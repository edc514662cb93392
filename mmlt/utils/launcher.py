"""A worker started by torchrun dies with it (no toolbox or torch imports:
the tools call this first, before their imports take seconds)."""
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# how torchrun's agent appears in /proc/<pid>/cmdline
LAUNCHERS = ('torchrun', 'torch.distributed.run', 'torch.distributed.launch')


def _is_launcher(pid: int) -> bool:
    """Whether process ``pid`` runs torchrun (True where /proc cannot tell:
    only a process seen to be something else counts as not)."""
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            cmdline = f.read().decode(errors='replace')
    except OSError:
        return True
    return any(name in cmdline for name in LAUNCHERS)


def stop_with_launcher() -> bool:
    """Have the kernel kill this process when its parent (torchrun's
    agent) dies, so that a killed torchrun leaves no workers training on;
    exit at once if the parent is already gone. Only under torchrun
    (``$TORCHELASTIC_RUN_ID``) and on Linux; returns whether it was set.

    Call it first thing in a worker (``tools/train.py`` and
    ``tools/test.py`` do, before their imports): torchrun may be killed
    while its workers still import, and a worker reparented by then would
    otherwise tie its death to the new parent. SIGKILL, as a stuck
    (stopped) worker ignores anything else; the workers' checkpoints are
    written atomically, so nothing half-written is left behind.
    """
    if 'TORCHELASTIC_RUN_ID' not in os.environ or \
            not sys.platform.startswith('linux'):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    # Set for the current parent: if that is not torchrun any more, the
    # launcher died before the call and this worker was reparented.
    if not _is_launcher(os.getppid()):
        print(f'torchrun (the parent of this worker, pid {os.getpid()}) is '
              'gone: stopping.', file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    return True
