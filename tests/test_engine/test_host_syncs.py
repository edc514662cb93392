"""No host-device synchronisation per training iteration comes from mmlt
(``benchmarks/host_syncs.py``: the profiler's scalar reads and data-dependent
ops, with the Python frame that called them), for a DisAlign stage 2 in each
toolbox and a DeiT-LT student with its teacher; the checker itself finds
such a read when there is one."""
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))

import host_syncs  # noqa: E402


@pytest.mark.parametrize('name', list(host_syncs.MODELS_TO_CHECK))
def test_no_host_sync_from_mmlt(name):
    found = host_syncs.check(name, "cpu", steps=1)
    ours = {k: v for k, v in found.items() if k[2]}
    assert not ours, ours
    # the step was profiled: mmengine's own read of the logged losses
    assert any('message_hub' in origin for _, origin, _ in found)


def test_checker_attributes_a_read_to_mmlt():
    from mmlt.core import grw_kl_loss
    from mmlt.core.ldam import ldam_margins
    logits = torch.randn(4, 3)
    labels = torch.tensor([0, 1, 2, 1])
    found = host_syncs.host_syncs(
        lambda: float(grw_kl_loss(logits, labels, torch.ones(3))))
    # float() here is this test's read, not mmlt's
    assert [k for k in found if not k[2]] and not [k for k in found if k[2]]
    # ldam_margins checks its counts with `if (counts < 0).any()` (once, at
    # construction): a read in mmlt, named with its file and function
    found = host_syncs.host_syncs(lambda: ldam_margins([3, 2, 1]))
    ours = [k for k in found if k[2]]
    assert ours and all('mmlt/core/ldam.py' in k[1]
                        and 'ldam_margins' in k[1] for k in ours), found


def test_bad_label_still_named_on_cpu():
    """The label check is an asynchronous assertion (no host read on a
    GPU); on a CPU it still names the label."""
    from mmlt.core import grw_kl_loss
    with pytest.raises(ValueError, match=r'label 5 is outside \[0, 3\)'):
        grw_kl_loss(torch.randn(2, 3), torch.tensor([0, 5]), torch.ones(3))
    with pytest.raises(ValueError, match=r'label -1 is outside'):
        grw_kl_loss(torch.randn(2, 3), torch.tensor([-1, 0]), torch.ones(3),
                    ignore_index=255)
    # the ignore index is not a bad label
    grw_kl_loss(torch.randn(2, 3), torch.tensor([255, 0]), torch.ones(3),
                ignore_index=255)


def test_finite_loss_hook_reads_logged_values_or_tensors():
    """FiniteLossHook checks the values RuntimeInfoHook logged this
    iteration (no read of its own); without them (called outside a runner's
    loop) it reads the tensors: a NaN is caught either way."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub

    from mmlt.engine.hooks import FiniteLossHook
    hub = MessageHub.get_instance('test_finite_loss_hook_logged')
    from mmengine.logging import MMLogger
    runner = SimpleNamespace(message_hub=hub, iter=0, work_dir='.',
                             train_loop=None,
                             logger=MMLogger.get_instance('test_finite'))
    hook = FiniteLossHook()
    good = dict(loss=torch.tensor(1.0), loss_cls=torch.tensor(1.0))

    def iteration(outputs, log=True):
        hook.before_train_iter(runner, 0)
        if log:
            for key, value in outputs.items():
                hub.update_scalar(f'train/{key}', value)
        return host_syncs.host_syncs(
            lambda: hook.after_train_iter(runner, 0, None, outputs))

    found = iteration(good)
    assert not [k for k in found if k[2]], found
    # not logged this iteration (an older value is there): reads the tensor
    found = iteration(good, log=False)
    assert [k for k in found if k[2]], found
    bad = dict(loss=torch.tensor(float('nan')), loss_cls=torch.tensor(1.0))
    for log in (True, False):
        with pytest.raises(FloatingPointError, match='not finite'):
            iteration(bad, log=log)
