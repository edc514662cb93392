"""Test a checkpoint with an mmlt, mmdet, mmseg or mmpretrain config.

The standard OpenMMLab test script, task-agnostic: the config's evaluators
compute the metrics.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from torch.distributed.elastic.multiprocessing.errors import (  # noqa: E402
    record)

from mmlt.engine import (UNSAFE_LOAD_FLAG, UNSAFE_LOAD_HELP,  # noqa: E402
                         CheckpointMatchesModelHook, DisAlignRunner,
                         apply_compat, check_default_scope,
                         explain_collective_timeouts,
                         setup_distributed, teardown_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--out', help='dump the predictions (.pkl) or the metrics to this file')
    parser.add_argument(
        '--out-item',
        choices=['pred', 'metrics'],
        default='pred',
        help='what --out holds: the raw predictions (default) or the '
        'metrics (json, yaml or pkl, by the file suffix)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        UNSAFE_LOAD_FLAG, action='store_true', help=UNSAFE_LOAD_HELP)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


@record  # torchrun's summary of a failed run shows the error of each rank
def main():
    args = parse_args()
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
    cfg.load_from = args.checkpoint

    if args.out is not None and args.out_item == 'pred':
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must be a .pkl file with --out-item pred.')
        dump_results = dict(type='DumpResults', out_file_path=args.out)
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump_results]
        else:
            cfg.test_evaluator = [evaluator, dump_results]

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if not isinstance(runner, DisAlignRunner):  # it checks checkpoints itself
        # mmengine loads non-strictly and only warns: evaluating a checkpoint
        # of another model would report the metrics of random weights.
        runner.register_hook(CheckpointMatchesModelHook())
    with explain_collective_timeouts(cfg):  # a stuck or dead rank
        metrics = runner.test()
    if args.out is not None and args.out_item == 'metrics':
        from mmengine.fileio import dump
        dump({k: float(v) if hasattr(v, '__float__') else v
              for k, v in metrics.items()}, args.out)
    teardown_distributed()  # see tools/train.py


if __name__ == '__main__':
    main()
