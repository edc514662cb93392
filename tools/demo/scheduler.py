"""The runs of a task form lanes: chains where each run needs the one before
(stage 2 the stage-1 checkpoint). Lanes are independent, so the demo runs
them side by side, one process and one thread each: per-run numbers do not
depend on the core count, and on 2 cores two single-threaded lanes finish
about 1.5x sooner than one lane on two threads (measured, 8 epochs of
cls_stage1 per tools/train.py process: 24 s on two threads, so 48 s for two
in a row; two one-thread processes side by side, 32 s; the command:
docs/en/results.md)."""
import json
import os
import os.path as osp
import subprocess
import sys
import time

from . import ROOT
from .runs import run_all
from .tasks import LONGEST_FIRST, TASKS, WORK


def lanes(names):
    """The lanes of tasks ``names``, longest first: lane -> (task, runs)."""
    found = {}
    for name in names:
        for spec in TASKS[name]['runs']:
            found.setdefault(spec['lane'] or name, (name, []))[1].append(spec)
    # a lane missing from LONGEST_FIRST runs last, not never
    order = sorted(found, key=lambda lane: (
        LONGEST_FIRST.index(lane) if lane in LONGEST_FIRST
        else len(LONGEST_FIRST)))
    return {lane: found[lane] for lane in order}


def lane_results(lane):
    return f'{WORK}/lanes/{lane}.json'


def run_lane(lane, seeds):
    """One lane in this process (``--lane``), its results to a file."""
    name, specs = lanes(TASKS)[lane]
    metrics, files = run_all(name, specs, seeds)
    os.makedirs(osp.dirname(lane_results(lane)), exist_ok=True)
    with open(lane_results(lane), 'w') as f:
        json.dump(dict(metrics=metrics, files=files), f)


def run_side_by_side(commands, jobs, failed):
    """Run ``commands`` (name -> argv, in order), ``jobs`` at a time, each a
    process with one thread, from the repository root; on a failure stop
    the others and exit with ``failed`` (a template of ``{name}``)."""
    todo, running = list(commands), {}
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONUNBUFFERED='1')
    while todo or running:
        while todo and len(running) < max(1, jobs):
            name = todo.pop(0)
            running[name] = subprocess.Popen(commands[name], cwd=ROOT,
                                             env=env)
        time.sleep(0.5)
        for name, proc in list(running.items()):
            if proc.poll() is None:
                continue
            del running[name]
            if proc.returncode != 0:
                for other in running.values():
                    other.terminate()
                sys.exit(f'{failed.format(name=name)} (exit '
                         f'{proc.returncode}); the error is above')


def run_lanes(names, seeds, jobs):
    """Every lane of tasks ``names``, ``jobs`` at a time, each a process
    (``tools/demo.py --lane``) with one thread; the merged results by
    task."""
    commands = {}
    for lane in lanes(names):
        cmd = [sys.executable, osp.join(ROOT, 'tools', 'demo.py'), '--lane',
               lane, '--seeds', *map(str, seeds)]
        if jobs > 1:  # lanes side by side: whole lines, not in place
            cmd.append('--lines')
        commands[lane] = cmd
    run_side_by_side(commands, jobs,
                     'the demo stopped: its {name} lane failed')
    results = {name: dict(metrics={}, files={}) for name in names}
    for lane, (name, _) in lanes(names).items():
        with open(osp.join(ROOT, lane_results(lane))) as f:
            found = json.load(f)
        for key in ('metrics', 'files'):
            results[name][key].update(found[key])
    return results
