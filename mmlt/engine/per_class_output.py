"""Where the metrics' files go: next to the run's log, in mmengine's
``work_dir/<timestamp>/``: the per-class results ``per_class_<name>.csv``
and ``.json`` (``mmlt.core.per_class``), which the three toolboxes'
metrics write with ``per_class_results=True``, and the classification
metric's reliability bins."""
import logging
import os.path as osp
from typing import Mapping, Optional, Sequence

from mmengine.logging import MMLogger, print_log

from mmlt.core.per_class import write_per_class


def run_log_dir() -> Optional[str]:
    """The directory of the current run's log file (the runner's
    ``log_dir``); None outside a run that logs to a file."""
    logger = MMLogger.get_current_instance()
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            return osp.dirname(handler.baseFilename)
    return None


def run_output_path(filename: str,
                    out_dir: Optional[str] = None) -> Optional[str]:
    """``filename`` in ``out_dir`` (default: the run's log dir); None, with
    a warning, outside a run without ``out_dir``."""
    out_dir = out_dir or run_log_dir()
    if out_dir is None:
        print_log(f'{filename}: no run log dir to write it to; pass '
                  'per_class_dir to the metric.', 'current', logging.WARNING)
        return None
    return osp.join(out_dir, filename)


def write_per_class_results(name: str, rows: Sequence[Mapping], task: str,
                            metric_names: Sequence[str],
                            out_dir: Optional[str] = None,
                            extra: Optional[Mapping] = None) -> None:
    """Write ``per_class_<name>.{csv,json}`` into ``out_dir`` (default: the
    run's log dir) and log where; outside a run without ``out_dir``, say
    that nothing was written."""
    stem = run_output_path(f'per_class_{name}', out_dir)
    if stem is None:
        return
    csv_path, json_path = write_per_class(stem, rows, task, metric_names,
                                          extra)
    print_log(f'per-class results of {len(rows)} classes: {csv_path}, '
              f'{json_path}', 'current')
