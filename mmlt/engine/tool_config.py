"""What ``tools/train.py`` and ``tools/test.py`` share: the run arguments
after their own, and the config they build from the arguments."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from .checkpoint_io import UNSAFE_LOAD_FLAG, UNSAFE_LOAD_HELP
from .checks import check_default_scope
from .runtime import setup_runtime


class CfgOptions(DictAction):
    """mmengine's ``DictAction`` that names a ``key`` without ``=value``
    instead of failing with "not enough values to unpack"."""

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values:
            if '=' not in item:
                parser.error(f'{option_string} {item}: expected key=value, '
                             f'e.g. load_from=PATH or '
                             f'train_cfg.max_epochs=10.')
        super().__call__(parser, namespace, values, option_string)


def add_run_args(parser: argparse.ArgumentParser,
                 cfg_options_help: str) -> None:
    """``--cfg-options``, ``--launcher``, ``--unsafe-load``, ``--local-rank``.
    """
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptions, help=cfg_options_help)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        UNSAFE_LOAD_FLAG, action='store_true', help=UNSAFE_LOAD_HELP)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_run_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def read_config(path: str) -> Config:
    """``Config.fromfile`` whose syntax errors name the config file (or
    the base it inherits) and the line: mmengine reports ``<unknown>``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path} does not exist.')
    try:
        return Config.fromfile(path)
    except SyntaxError as e:
        where = path if e.filename in (None, '<unknown>') else e.filename
        if where == path and e.filename in (None, '<unknown>'):
            where += ' (or a _base_ it inherits)'
        raise SyntaxError(f'{where}, line {e.lineno}: {e.msg}') from None


def check_option_types(cfg: Config, options: dict) -> None:
    """Refuse a ``--cfg-options`` value that is text where the config holds
    a number (``train_cfg.max_epochs=abc``): it would fail later, far from
    the option, or not at all."""
    for key, value in options.items():
        node = cfg
        try:
            for part in key.split('.'):
                node = node[int(part)] if isinstance(node, list) else \
                    node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            continue  # a new key: nothing to compare with
        number = isinstance(node, (int, float)) and not isinstance(node, bool)
        if number and isinstance(value, str):
            raise ValueError(
                f'--cfg-options {key}={value}: the config holds a number '
                f'there ({node!r}), and {value!r} is not one.')


def cap_dataloader_workers(cfg: Config) -> None:
    """Give each data loader at most as many worker processes as this
    process has cores: the full-size configs ask for 2-8 per GPU, which on
    a small machine only compete with the main process. Says what it
    changed."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    per_process = max(1, cores // int(os.environ.get('LOCAL_WORLD_SIZE', 1)))
    capped = []
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader or loader.get('num_workers', 0) <= per_process:
            continue
        capped.append(f'{name} {loader.num_workers}')
        loader.num_workers = per_process
    if capped:
        print_log(
            f'{per_process} core(s) per process: data-loader workers '
            f'{", ".join(capped)} -> {per_process}: more would only compete '
            'for the cores.', 'current')


def load_run_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with ``--cfg-options``, the launcher
    and the work dir, after the runtime every run needs (``setup_runtime``)
    and the checks of its scope. The runner the tools build from it
    (``build_runner``) sets up the distributed run."""
    # mmengine's loader of local checkpoints (load_from, --resume, the
    # checkpoint to test): weights_only with mmlt's allow-list, full
    # unpickling only with --unsafe-load / MMLT_UNSAFE_LOAD=1
    setup_runtime(allow_unsafe_checkpoints=args.unsafe_load)
    cfg = read_config(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        check_option_types(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    # default_scope must be the toolbox of the mmlt adapter imported
    check_default_scope(cfg)
    cap_dataloader_workers(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg
