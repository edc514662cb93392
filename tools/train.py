"""Train a model with an mmlt, mmdet, mmseg or mmpretrain config.

The standard OpenMMLab training script, task-agnostic: the config's
``default_scope`` picks the toolbox and ``runner_type`` the runner (e.g.
``DisAlignRunner`` for DisAlign stage 2).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

# first, before the imports take seconds: a torchrun worker dies with torchrun
from mmlt.utils.known_warnings import silence_pkg_resources_warning  # noqa: E402,E501
from mmlt.utils.launcher import stop_with_launcher  # noqa: E402

stop_with_launcher()
silence_pkg_resources_warning()  # before mmengine is imported

from torch.distributed.elastic.multiprocessing.errors import (  # noqa: E402
    record)

from mmlt.engine import (AUTO_RESUME, build_runner,  # noqa: E402
                         check_work_dir_is_free, choose_checkpoint_in_config,
                         explain_collective_timeouts, teardown_distributed)
from mmlt.engine.tool_config import (add_run_args,  # noqa: E402
                                     load_run_config, parse_run_args)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr', action='store_true', help='scale lr by batch size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='start anew in a work dir that holds the checkpoints of an '
        'earlier run, deleting them (without it, that is an error)')
    add_run_args(
        parser,
        'override config settings, e.g. load_from=PATH '
        'train_cfg.max_iters=100')
    return parse_run_args(parser)


@record  # torchrun's summary of a failed run shows the error of each rank
def main():
    args = parse_args()
    cfg = load_run_config(args)

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            print('AMP is already enabled in the config.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr = '
                               'dict(base_batch_size=...)` in the config.')
        cfg.auto_scale_lr.enable = True

    # The checkpoint to start from (mmlt.engine.runner's rule): with
    # 'auto', the work dir's latest complete one, else a new run from
    # load_from (a DisAlign stage 2 sets it to stage 1's work dir). The
    # runner saves crash-safe and records the settings a resume compares.
    if args.resume == 'auto':
        cfg.resume = AUTO_RESUME
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if not choose_checkpoint_in_config(cfg):
        # a new run must not mix its checkpoints with an earlier run's
        check_work_dir_is_free(cfg.work_dir, overwrite=args.overwrite)

    runner = build_runner(cfg)
    with explain_collective_timeouts(runner.cfg):  # a stuck or dead rank
        runner.train()
    # a clean end for every rank: gloo's process group left to the
    # interpreter's exit can abort (SIGABRT) after a finished run
    teardown_distributed()


if __name__ == '__main__':
    main()
