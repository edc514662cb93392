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

from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from torch.distributed.elastic.multiprocessing.errors import (  # noqa: E402
    record)

from mmlt.engine import (ResumedSettingsHook,  # noqa: E402
                         check_work_dir_is_free, explain_collective_timeouts,
                         latest_complete_checkpoint, teardown_distributed,
                         with_safe_checkpoint_hook)
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

    # resume=True in a config without load_from means the same; mmengine's
    # own lookup would take last_checkpoint's relative path from the cwd
    if args.resume == 'auto' or (args.resume is None and cfg.get('resume')
                                 and cfg.get('load_from') is None):
        # The latest checkpoint of the work dir. mmengine would resume from
        # load_from when it is set, and a DisAlign stage 2 sets it to the
        # stage-1 checkpoint; with nothing to resume, start anew from
        # load_from. The checkpoint last_checkpoint names, or the newest
        # complete one (a run killed while saving may leave a pointer to a
        # missing or truncated file).
        latest = latest_complete_checkpoint(cfg.work_dir)
        if latest is not None:
            cfg.resume = True
            cfg.load_from = latest
        else:
            cfg.resume = False
            print(f'--resume: no checkpoint in {cfg.work_dir}; starting the '
                  'run from the beginning.')
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if not cfg.get('resume'):
        # a new run must not mix its checkpoints with an earlier run's
        check_work_dir_is_free(cfg.work_dir, overwrite=args.overwrite)

    # checkpoints written atomically, old ones deleted after the new one
    cfg.default_hooks = with_safe_checkpoint_hook(cfg.get('default_hooks'))

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    # records the optimizer / schedule settings in each checkpoint; on
    # --resume, says which ones the config changed (the checkpoint's win)
    runner.register_hook(ResumedSettingsHook())
    with explain_collective_timeouts(cfg):  # a stuck or dead rank
        runner.train()
    # a clean end for every rank: gloo's process group left to the
    # interpreter's exit can abort (SIGABRT) after a finished run
    teardown_distributed()


if __name__ == '__main__':
    main()
