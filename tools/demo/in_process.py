"""Running a tool of ``tools/`` as ``__main__`` in this process, its output
to a log file: a lane imports the toolboxes once (about 10 s a process)
instead of once per run."""
import contextlib
import gc
import os
import os.path as osp
import sys
import traceback

from . import ROOT
from .progress import LogStream, Progress


def run_in_process(script, args, log_path, progress=None):
    """``tools/<script>`` with ``args`` as ``__main__`` in this process, its
    output to ``log_path`` (and to ``progress``). Fails loudly with the log
    tail."""
    from mmlt.cli import run_tool  # as mmlt-train runs tools/train.py
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    failure = None
    with open(log_path, 'w', buffering=1) as log:
        stream = LogStream(log, progress)
        try:
            with contextlib.redirect_stdout(stream), \
                    contextlib.redirect_stderr(stream):
                run_tool(script[:-len('.py')], args)
        except SystemExit as exit:
            if exit.code not in (None, 0):
                failure = f'exit {exit.code}'
                if not isinstance(exit.code, int):
                    log.write(f'{exit.code}\n')
        except Exception:  # the tool's error, in its log like a process's
            log.write(traceback.format_exc())
            failure = 'an exception'
        finally:
            if progress is not None:
                progress.close()
    gc.collect()  # the finished runner's model and data
    if failure is not None:
        with open(log_path) as log:
            tail = log.read()[-3000:]
        sys.exit(f'tools/{script} {" ".join(args)} failed ({failure}); '
                 f'end of {log_path}:\n{tail}')


def tool(name, args, log, prefix=None, max_epochs=None):
    """tools/<name> with ``args``, its output to ``log`` (relative to the
    repository root); with a ``prefix``, its progress shown under it."""
    run_in_process(name, args, f'{ROOT}/{log}',
                   Progress(prefix, max_epochs) if prefix else None)
