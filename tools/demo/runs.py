"""A lane's runs, one after the other in this process. A run's numbers are
the metrics file that ``tools/test.py --out ... --out-item metrics`` writes
(the evaluators' metrics as ``runner.test()`` returns them)."""
import json
import os.path as osp
import time

from . import ROOT
from .in_process import tool
from .tasks import WORK


def work_dir(task, run):
    return f'{WORK}/{task}_{run}'


def checkpoint_of(work_dir):
    """The checkpoint a post-hoc method is tested on: the one a
    ``load_from`` naming ``work_dir`` loads, by
    ``mmlt.engine.latest_complete_checkpoint``."""
    from mmlt.engine import latest_complete_checkpoint  # loads torch
    found = latest_complete_checkpoint(work_dir)
    if found is None:
        raise FileNotFoundError(f'{work_dir} holds no complete checkpoint')
    return found


def max_epochs(config):
    """The epochs of an epoch-based config, for the progress display (None
    for iteration-based ones, whose log lines carry the total)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config), import_custom_modules=False)
    return cfg.train_cfg.get('max_epochs')


def test_once(prefix, config, checkpoint, work_dir, options=()):
    """tools/test.py on the test split; its metrics file."""
    out = f'{work_dir}/test_metrics.json'
    tool('test.py', [config, checkpoint, '--work-dir', work_dir, '--out', out,
                     '--out-item', 'metrics',
                     *(['--cfg-options', *options] if options else [])],
         f'{work_dir}/demo_test.log', prefix)
    return out


def train_then_test(task, spec, seed):
    """Train a run (with ``randomness.seed=seed`` unless None), test it."""
    run = spec['run'] if seed is None else f'{spec["run"]}_seed{seed}'
    run_dir = work_dir(task, run)
    prefix = f'[{task}] {run}'
    # the earlier run's work dir: its latest complete checkpoint is loaded
    # (the rule of the configs' own load_from and teacher checkpoint)
    options = [f'{key}={work_dir(task, spec[field])}'
               for field, key in (('load_from', 'load_from'),
                                  ('teacher', 'model.teacher.checkpoint'))
               if spec[field]]
    if seed is not None:
        options.append(f'randomness.seed={seed}')
    args = [spec['config'], '--work-dir', run_dir,
            '--overwrite']  # the demo's own earlier run
    if options:
        args += ['--cfg-options', *options]
    print(f'{prefix}: tools/train.py {" ".join(args)}', flush=True)
    tool('train.py', args, f'{run_dir}/demo_train.log', prefix,
         max_epochs(spec['config']))
    return test_once(prefix, spec['config'], checkpoint_of(run_dir), run_dir)


def choose_then_test(task, spec):
    """A post-hoc method: tau chosen on val (unless the spec says not to),
    then the test split once."""
    run_dir = work_dir(task, spec['run'])
    prefix = f'[{task}] {spec["run"]}'
    checkpoint = checkpoint_of(work_dir(task, spec['of']))
    if not spec['choose_tau']:
        print(f'{prefix}: the config\'s tau', flush=True)
        return test_once(prefix, spec['config'], checkpoint, run_dir)
    sweep = f'{run_dir}/tau_on_val.json'
    print(f'{prefix}: tools/analysis/choose_tau.py {spec["config"]} '
          f'{checkpoint}', flush=True)
    tool('analysis/choose_tau.py',
         [spec['config'], checkpoint, '--work-dir', f'{run_dir}/val',
          '--out', sweep], f'{run_dir}/demo_choose_tau.log')
    with open(osp.join(ROOT, sweep)) as f:
        chosen = json.load(f)
    print(f'{prefix}: tau {chosen["best_tau"]:g} on val '
          f'({chosen["metric"]})', flush=True)
    return test_once(prefix, spec['config'], checkpoint, run_dir,
                     chosen['cfg_options'].split())


def run_all(task, specs, seeds):
    """The runs ``specs`` of ``task`` in order: their test metrics by run, a
    list per run (one entry per seed for the seeded runs), and the metrics
    file of each run's first seed."""
    metrics, files = {}, {}
    for spec in specs:
        start = time.time()
        if 'of' in spec:
            outs = [choose_then_test(task, spec)]
        else:
            outs = [train_then_test(task, spec, seed) for seed in
                    (seeds if spec['seeded'] else [None])]
        metrics[spec['run']] = []
        for out in outs:
            with open(osp.join(ROOT, out)) as f:
                metrics[spec['run']].append(json.load(f))
        files[spec['run']] = outs[0]
        print(f'[{task}] {spec["run"]}: done in {time.time() - start:.0f} s',
              flush=True)
    return metrics, files
