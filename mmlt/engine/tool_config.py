"""What ``tools/train.py`` and ``tools/test.py`` share: the run arguments
after their own, and the config they build from the arguments."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

from .checkpoint_io import UNSAFE_LOAD_FLAG, UNSAFE_LOAD_HELP
from .checks import check_default_scope
from .compat import apply_compat
from .distributed import setup_distributed


def add_run_args(parser: argparse.ArgumentParser,
                 cfg_options_help: str) -> None:
    """``--cfg-options``, ``--launcher``, ``--unsafe-load``, ``--local-rank``.
    """
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help=cfg_options_help)
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


def load_run_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with ``--cfg-options``, the launcher
    and the work dir, after the fixes every run needs (``apply_compat``)
    and the checks of its scope; the process group set up."""
    # mmengine's loader of local checkpoints (load_from, --resume, the
    # checkpoint to test): weights_only with mmlt's allow-list, full
    # unpickling only with --unsafe-load / MMLT_UNSAFE_LOAD=1
    apply_compat(allow_unsafe_checkpoints=args.unsafe_load)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # default_scope must be the toolbox of the mmlt adapter imported
    check_default_scope(cfg)
    # no GPU: torchrun's processes on gloo, DDP without device_ids
    setup_distributed(cfg, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg
