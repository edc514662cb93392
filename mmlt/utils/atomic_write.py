"""One way to write a file that a crash cannot leave half-written: the
checkpoints and their pointer (``mmlt.engine.checkpointing``) and the
metrics' result files (``mmlt.core.per_class``, ``calibration_error``)."""
import os
import os.path as osp
from pathlib import Path
from typing import Union


def _fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories
    cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(data: Union[bytes, str],
                     filepath: Union[str, Path]) -> Path:
    """Write ``data`` (text: as UTF-8) to ``filepath`` so that it holds
    either its old content or all of ``data``: a temporary file beside it,
    fsynced, then renamed over it, and the directory fsynced. Creates the
    directory; returns the path."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    filepath = str(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    # one fixed name per target: a leftover of a killed write is overwritten
    # by the next save of the same file
    tmp = filepath + '.tmp'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and e.filename is None:
            # a full disk's ENOSPC names no file: name it, and say that
            # the file it would replace is intact
            raise OSError(e.errno, f'{e.strerror} while writing {filepath} '
                          f'({len(data)} bytes); {filepath} keeps its '
                          'earlier content, if any', filepath) from e
        raise
    _fsync_dir(directory)
    return Path(filepath)
