"""Test a checkpoint with an mmlt, mmdet, mmseg or mmpretrain config.

The standard OpenMMLab test script, task-agnostic: the config's evaluators
compute the metrics.
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

from mmlt.engine import (CheckpointMatchesModelHook,  # noqa: E402
                         build_runner, explain_collective_timeouts,
                         teardown_distributed)
from mmlt.engine.tool_config import (add_run_args,  # noqa: E402
                                     load_run_config, parse_run_args)
from mmlt.stage2 import DisAlignRunner  # noqa: E402
from mmlt.stage2.training_set_checks import (  # noqa: E402
    frequency_files_in, stale_frequency_files)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, or a run\'s work dir (its latest complete '
        'checkpoint)')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--out', help='dump the predictions (.pkl) or the metrics to this file')
    parser.add_argument(
        '--out-item',
        choices=['pred', 'metrics'],
        default='pred',
        help='what --out holds: the raw predictions (default) or the '
        'metrics (json, yaml or pkl, by the file suffix)')
    add_run_args(parser, 'override config settings')
    return parse_run_args(parser)


# what --out can be written as, by --out-item (mmengine's dump formats)
OUT_SUFFIXES = dict(pred=('.pkl', '.pickle'),
                    metrics=('.json', '.yaml', '.yml', '.pkl', '.pickle'))


def check_out(args):
    """Refuse an --out that cannot be written, or that names an input,
    before any work: the evaluation would end by failing or by replacing
    the checkpoint (or the config) with its results."""
    if args.out is None:
        return
    suffixes = OUT_SUFFIXES[args.out_item]
    if not args.out.endswith(suffixes):
        raise SystemExit(f'--out {args.out}: with --out-item {args.out_item} '
                         f'it must end in {" / ".join(suffixes)}.')
    out = osp.realpath(args.out)
    for name, given in (('checkpoint', args.checkpoint),
                        ('config', args.config)):
        if out == osp.realpath(given):
            raise SystemExit(f'--out {args.out} is the {name} being tested; '
                             'writing the results there would destroy it. '
                             'Choose another --out path.')


def warn_stale_frequency_files(runner, cfg):
    """Warn when a frequency file of the config has the training set's
    classes but not its image counts; training refuses that, and the groups
    would be stale here. Classification only: its training list is cheap
    to count (an LVIS json is not, and pixel counts take a pass over every
    label map)."""
    # the files this run reads: the model's and the test evaluator's
    paths = frequency_files_in([cfg.get('model'), cfg.get('test_evaluator')])
    if cfg.get('default_scope') != 'mmpretrain' or \
            'train_dataloader' not in cfg or not paths:
        return
    from mmengine.registry import DATASETS
    try:
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    except Exception as e:  # noqa: B902 - an unbuildable training set: say so
        runner.logger.info(f'the frequency files were not checked against '
                           f'the training set, which could not be built '
                           f'here ({type(e).__name__}: {str(e)[:200]}).')
        return
    for message in stale_frequency_files(paths, dataset):
        runner.logger.warning(message)


@record  # torchrun's summary of a failed run shows the error of each rank
def main():
    args = parse_args()
    check_out(args)
    cfg = load_run_config(args)
    cfg.load_from = args.checkpoint

    if args.out is not None and args.out_item == 'pred':
        dump_results = dict(type='DumpResults', out_file_path=args.out)
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump_results]
        else:
            cfg.test_evaluator = [evaluator, dump_results]

    runner = build_runner(cfg)
    warn_stale_frequency_files(runner, cfg)
    if not isinstance(runner, DisAlignRunner):  # it checks checkpoints itself
        # mmengine loads non-strictly and only warns: evaluating a checkpoint
        # of another model would report the metrics of random weights.
        runner.register_hook(CheckpointMatchesModelHook())
    with explain_collective_timeouts(runner.cfg):  # a stuck or dead rank
        metrics = runner.test()
    if args.out is not None and args.out_item == 'metrics':
        from mmengine.fileio import dump
        dump({k: float(v) if hasattr(v, '__float__') else v
              for k, v in metrics.items()}, args.out)
    teardown_distributed()  # see tools/train.py


if __name__ == '__main__':
    main()
