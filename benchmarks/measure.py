"""What every mmlt cost benchmark measures, and how (one module, so the four
benchmarks and ``run_all.py`` report the same quantities).

Time
    The variants compared (stage 1 / stage 2, stock / calibrated head, with /
    without the teacher) run in alternation in one process, on the same
    batch, after ``warmup`` untimed rounds; the order rotates every round,
    so that each runs in each position equally often (a fixed order, or
    one that only flips, favours whichever repeats on its own caches). Each run is timed with
    ``time.perf_counter`` between two ``torch.cuda.synchronize()`` on a GPU.
    A ratio is the median of the per-round ratios (each pair ran back to
    back, under about the same load from other processes), a time the median
    of the rounds.

Memory
    The peak of the bytes of tensors allocated during one call of the
    function (a training step), above what was allocated before it:
    weights' gradients, optimizer state, activations, temporaries; not the
    weights or the batch already there.

    * GPU: ``torch.cuda.max_memory_allocated()`` after
      ``reset_peak_memory_stats()``, minus ``memory_allocated()`` before.
    * CPU: the same count from torch's CPU allocator: ``torch.profiler``
      with ``profile_memory=True`` records every allocation and free of a
      tensor (``[memory]`` events, signed byte counts); the running sum's
      maximum is the peak. Like ``max_memory_allocated`` it counts tensors
      only: neither the allocator's cached blocks nor the scratch buffers
      oneDNN / MKL allocate themselves. (``tracemalloc`` sees only Python's
      allocator, not torch's, and a process's RSS includes the allocator's
      free lists and the interpreter.)

Mixed precision
    ``--amp bf16`` / ``fp16`` runs forward and loss under ``torch.autocast``
    (training: ``optim_wrapper_cfg``, an optim wrapper whose
    ``optim_context`` enters autocast, no loss scaling in bf16; inference:
    ``torch.autocast`` around the forward); ``fp32`` (default) none.
"""
import contextlib
import json
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

AMP_DTYPES = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def add_common_args(parser, default_rounds: int = 10) -> None:
    """``--device``, ``--amp``, ``--rounds``, ``--warmup``, ``--threads``,
    ``--json``: the same in every benchmark."""
    parser.add_argument('--device', default='cpu',
                        help="'cpu' or 'cuda' (default cpu)")
    parser.add_argument('--amp', choices=sorted(AMP_DTYPES), default='fp32',
                        help='autocast dtype of forward and loss')
    parser.add_argument('--rounds', type=int, default=default_rounds,
                        help='timed rounds (each runs every variant once)')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed rounds first')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (default 1: on a machine '
                        'shared with other jobs more threads than free cores '
                        'make OpenMP spin, 10-20x slower; 0: torch default)')
    parser.add_argument('--json', help='also write the results here')


def setup(args) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device here.')
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True


def machine(device: str) -> str:
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.split(':', 1)[1].strip()
                    break
            else:
                name = 'CPU'
    except OSError:
        name = 'CPU'
    return f'{name}, {torch.get_num_threads()} threads'


def sync(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def autocast(device: str, amp: str):
    """``torch.autocast`` for ``amp`` on ``device`` (a null context for
    fp32)."""
    dtype = AMP_DTYPES[amp]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def _register_autocast_wrapper():
    from mmengine.optim import OptimWrapper
    from mmengine.registry import OPTIM_WRAPPERS

    @OPTIM_WRAPPERS.register_module(force=True)
    class BenchAutocastOptimWrapper(OptimWrapper):
        """``OptimWrapper`` whose forward and loss run under
        ``torch.autocast(dtype)``, without loss scaling (bf16 has fp32's
        range). mmengine's ``AmpOptimWrapper`` would add a ``GradScaler``
        (whose inf check reads a flag on the host every step) and refuses
        to run on a CPU."""

        def __init__(self, dtype, **kwargs):
            super().__init__(**kwargs)
            self.cast_dtype = dtype

        @contextlib.contextmanager
        def optim_context(self, model):
            device = next(model.parameters()).device.type
            with super().optim_context(model), torch.autocast(
                    device, dtype=self.cast_dtype):
                yield


def optim_wrapper_cfg(optimizer: dict, amp: str, **kwargs) -> dict:
    """An mmengine optim wrapper config for ``amp``: ``OptimWrapper`` in
    fp32, autocast without loss scaling in bf16, ``AmpOptimWrapper`` (a
    GradScaler; CUDA only) in fp16."""
    if amp == 'fp32':
        return dict(type='OptimWrapper', optimizer=optimizer, **kwargs)
    if amp == 'fp16':
        return dict(type='AmpOptimWrapper', optimizer=optimizer,
                    dtype=AMP_DTYPES[amp], **kwargs)
    _register_autocast_wrapper()
    return dict(type='BenchAutocastOptimWrapper', optimizer=optimizer,
                dtype=AMP_DTYPES[amp], **kwargs)


def alternate(fns: Dict[str, Callable[[], object]], rounds: int,
              warmup: int, device: str) -> Dict[str, List[float]]:
    """Seconds of each of ``rounds`` runs of each function, interleaved
    (the order rotates every round) after ``warmup`` untimed rounds."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    sync(device)
    times = {name: [] for name in names}
    for i in range(rounds):
        # rotate the order: each function in each position equally often,
        # and (with 3) none twice in a row, i.e. on its own warm caches
        for name in names[i % len(names):] + names[:i % len(names)]:
            sync(device)
            start = time.perf_counter()
            fns[name]()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratio(times_b: Sequence[float], times_a: Sequence[float]) -> float:
    """Median of the per-round ratios b / a."""
    return statistics.median(b / a for a, b in zip(times_a, times_b))


def peak_memory(fn: Callable[[], object], device: str) -> int:
    """Peak bytes of tensors allocated during ``fn()`` above those before
    (module doc)."""
    if str(device).startswith('cuda'):
        sync(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        sync(device)
        return torch.cuda.max_memory_allocated(device) - before
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU],
                 profile_memory=True) as prof:
        fn()
    events = sorted(
        (e for e in prof.profiler.kineto_results.events()
         if e.name() == '[memory]' and e.device_type().name == 'CPU'),
        key=lambda e: e.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return peak


def compare_train_steps(report, steps: Dict[int, Callable[[], object]],
                        args) -> None:
    """The stage-2 step (``steps[2]``) against stage 1's (``steps[1]``):
    time, alternating rounds, and peak memory, as two report rows with the
    targets (time 0.5x, memory 0.6x) every benchmark shares."""
    times = alternate(steps, args.rounds, args.warmup, args.device)
    mem = {k: peak_memory(fn, args.device) for k, fn in steps.items()}
    report.row('train step time (s)', median(times[1]), median(times[2]),
               paired_ratio(times[2], times[1]), 0.5, 'time')
    report.row('train step peak memory (MiB)', mem[1] / 2**20,
               mem[2] / 2**20, mem[2] / mem[1], 0.6, 'memory')


def report_inference(report, whole: Dict[str, List[float]],
                     head: Dict[str, List[float]], head_label: str,
                     whole_label: str = 'inference, whole model (ms)',
                     heads_per_model: int = 1,
                     how: str = 'head timings') -> None:
    """The inference rows every stage-2 benchmark shares: the whole model,
    stock vs calibrated (target 1.01x) and stock vs a copy of itself (the
    noise), the classifier alone, and a note with the calibration's own
    cost from the classifier timings (``heads_per_model`` calibrated
    classifiers per inference), far less noisy than the difference of two
    whole inferences. ``whole`` has 'stock', 'calibrated' and 'copy'
    times, ``head`` 'stock' and 'calibrated'."""
    report.row(whole_label, 1e3 * median(whole['stock']),
               1e3 * median(whole['calibrated']),
               paired_ratio(whole['calibrated'], whole['stock']), 1.01,
               'inference')
    report.row('  same, stock vs a copy (noise)',
               1e3 * median(whole['stock']), 1e3 * median(whole['copy']),
               paired_ratio(whole['copy'], whole['stock']))
    report.row(head_label, 1e3 * median(head['stock']),
               1e3 * median(head['calibrated']),
               paired_ratio(head['calibrated'], head['stock']), key='head')
    extra = heads_per_model * (median(head['calibrated'])
                               - median(head['stock']))
    report.note(f'The calibration costs {1e3 * extra:.3f} ms per inference '
                f'({how}) = {100 * extra / median(whole["stock"]):.2f}% of '
                "the stock model's.")


class Report:
    """Rows of one benchmark: two variants, their ratio and its target;
    printed as a table, written as JSON for ``run_all.py``."""

    def __init__(self, name: str, model: str, args, columns=('a', 'b')):
        self.data = dict(benchmark=name, model=model, device=args.device,
                         machine=machine(args.device), amp=args.amp,
                         rounds=args.rounds, columns=list(columns),
                         torch=torch.__version__, rows=[], summary={},
                         notes=[])
        self.json = getattr(args, 'json', None)

    def row(self, metric: str, a: float, b: float, ratio: float,
            target: Optional[float] = None, key: Optional[str] = None,
            unit: str = '') -> None:
        self.data['rows'].append(dict(metric=metric, a=a, b=b, ratio=ratio,
                                      target=target, unit=unit))
        if key:
            self.data['summary'][key] = dict(ratio=ratio, target=target)

    def note(self, text: str) -> None:
        self.data['notes'].append(text)

    def print(self) -> None:
        d = self.data
        print(f"{d['benchmark']}: {d['model']}; {d['device']} "
              f"({d['machine']}), {d['amp']}, torch {d['torch']}")
        a, b = d['columns']
        print(f'{"":44}{a:>16}{b:>16}{"ratio":>9}  target')
        for r in d['rows']:
            target = '' if r['target'] is None else (
                f"<= {r['target']:g}x "
                + ('ok' if r['ratio'] <= r['target'] else 'MISSED'))
            print(f"{r['metric']:44}{r['a']:>16.4g}{r['b']:>16.4g}"
                  f"{r['ratio']:>9.3f}  {target}")
        for text in d['notes']:
            print(f'  {text}')

    def write(self) -> None:
        self.print()
        if self.json:
            with open(self.json, 'w') as f:
                json.dump(self.data, f, indent=1)
