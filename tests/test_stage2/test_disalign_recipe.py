"""mmlt's DisAlign recipe: a calibration that starts at the logit
adjustment's offsets (the demo's stage-2 config starts where the post-hoc
logit adjustment config ends), and the held-out split tool of the
measurement that was not adopted (every class kept for stage 1, the rare
ones whole)."""
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mmlt.core import AdaptiveCalibration, DisAlignLinear, prior_margin
from mmlt.core.heldout_split import heldout_split
from tiny_runs import tiny_cls_data, tiny_config

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'dataset_converters' / 'split_heldout.py'


def test_split_keeps_every_class_and_the_rare_ones_whole():
    counts = [440, 263, 94, 12, 7, 5, 4, 2, 1]
    labels = np.repeat(np.arange(len(counts)), counts)
    fit, heldout = heldout_split(labels, 0.2, seed=0)
    assert sorted(fit + heldout) == list(range(len(labels)))
    assert not set(fit) & set(heldout)
    fit_counts = np.bincount(labels[fit], minlength=len(counts))
    held_counts = np.bincount(labels[heldout], minlength=len(counts))
    # floor(0.2 n) held out: 88, 52, 18, 2, 1, 1, 0, 0, 0
    assert held_counts.tolist() == [math.floor(0.2 * n) for n in counts]
    assert (fit_counts >= 1).all()
    assert fit_counts[-3:].tolist() == [4, 2, 1]  # the rare ones whole


def test_split_is_a_function_of_the_seed():
    labels = np.repeat(np.arange(3), [50, 20, 10])
    assert heldout_split(labels, 0.2, 0) == heldout_split(labels, 0.2, 0)
    assert heldout_split(labels, 0.2, 0) != heldout_split(labels, 0.2, 1)


@pytest.mark.parametrize('fraction', [0, 1, -0.1, 1.5])
def test_split_fraction_out_of_range(fraction):
    with pytest.raises(ValueError, match='fraction must be in'):
        heldout_split([0, 0, 1, 1], fraction)


def test_split_that_holds_out_nothing_is_an_error():
    with pytest.raises(ValueError, match='holds out nothing'):
        heldout_split([0, 0, 1, 2], 0.2)


def test_split_tool_writes_both_lists(tmp_path):
    lines = [f'train/{c}/{i}.png {c}' for c, n in enumerate([20, 10, 3])
             for i in range(n)]
    source = tmp_path / 'train.txt'
    source.write_text('\n'.join(lines) + '\n')
    out = subprocess.run([sys.executable, str(TOOL), str(source)],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    fit = (tmp_path / 'train_fit.txt').read_text().splitlines()
    held = (tmp_path / 'train_heldout.txt').read_text().splitlines()
    assert sorted(fit + held) == sorted(lines)
    labels = [int(line.split()[1]) for line in held]
    assert np.bincount(labels, minlength=3).tolist() == [4, 2, 0]
    assert source.read_text() == '\n'.join(lines) + '\n'  # input untouched


def test_split_tool_names_a_bad_list(tmp_path):
    bad = tmp_path / 'train.txt'
    bad.write_text('a.png zero\n')
    out = subprocess.run([sys.executable, str(TOOL), str(bad)],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode != 0
    assert 'train.txt, line 1' in out.stderr


def test_prior_margin_by_hand():
    counts = [80.0, 15.0, 5.0]
    log_prior = np.log(np.array(counts) / 100)
    expected = -2 * (log_prior - log_prior.mean())  # tau 1, sigma 0.5
    assert np.allclose(prior_margin(counts, 1.0).numpy(), expected,
                       atol=1e-6)
    assert np.allclose(prior_margin(counts, 0.5).numpy(), expected / 2,
                       atol=1e-6)


def test_calibration_starts_at_logit_adjustment():
    """With the prior margin and sigma = 0.5 the calibrated logits are the
    logit-adjusted ones, z - tau log(prior), up to a shift."""
    torch.manual_seed(0)
    counts = [80.0, 15.0, 5.0]
    layer = DisAlignLinear(6, 3, initial_margin=prior_margin(counts, 1.0))
    torch.nn.init.zeros_(layer.calibration.confidence.weight)  # sigma 0.5
    x = torch.randn(4, 6)
    with torch.no_grad():
        out = layer(x)
        adjusted = torch.nn.functional.linear(x, layer.weight, layer.bias) \
            - torch.tensor(counts).div(100).log()
    diff = out - adjusted
    assert torch.allclose(diff, diff[:, :1].expand_as(diff), atol=1e-5)


def test_initial_margin_survives_reset_and_stays_out_of_the_state_dict():
    calib = AdaptiveCalibration(3, 4, initial_margin=[1.0, 0.0, -1.0])
    with torch.no_grad():
        calib.margin.zero_()
    calib.reset_parameters()
    assert calib.margin.tolist() == [1.0, 0.0, -1.0]
    assert 'initial_margin' not in calib.state_dict()
    with pytest.raises(ValueError, match='3 finite numbers'):
        AdaptiveCalibration(3, 4, initial_margin=[1.0, 2.0])


def test_head_start_tau_reads_the_loss_counts(tmp_path):
    from mmpretrain.registry import MODELS

    import mmlt.classification  # noqa: F401
    head = MODELS.build(
        dict(type='DisAlignLinearClsHead', num_classes=3, in_channels=4,
             start_tau=1.0,
             loss=dict(type='GRWKLLoss', class_counts=[80, 15, 5], rho=1.0)))
    head.init_weights()
    assert torch.allclose(head.fc.calibration.margin,
                          prior_margin([80, 15, 5], 1.0))
    with pytest.raises(ValueError, match='start_tau needs the training'):
        MODELS.build(dict(type='DisAlignLinearClsHead', num_classes=3,
                          in_channels=4, start_tau=1.0,
                          loss=dict(type='CrossEntropyLoss')))


def test_demo_recipe_starts_where_logit_adjustment_ends(tmp_path):
    """configs/demo/cls_stage2.py, built on a stage-1 model's weights,
    predicts at its start what configs/demo/cls_logit-adjustment.py (tau 1)
    predicts; the paper's recipe starts at stage 1."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import mmlt.classification  # noqa: F401
    init_default_scope('mmpretrain')
    data = tiny_cls_data(tmp_path / 'lt_digits')

    def build(name):
        model = MODELS.build(tiny_config(name, data, 1).model)
        model.init_weights()
        return model.eval()

    torch.manual_seed(0)
    stage1 = build('cls_stage1')
    weights = stage1.state_dict()
    models = {}
    for name in ('cls_stage2', 'cls_logit-adjustment', 'cls_stage2_paper'):
        models[name] = build(name)
        models[name].load_state_dict(weights, strict=False)
    # the confidence exactly 0.5 (its weights are drawn with std 0.01)
    for name in ('cls_stage2', 'cls_stage2_paper'):
        torch.nn.init.zeros_(models[name].head.fc.calibration.confidence
                             .weight)
    images = torch.randn(8, 3, 28, 28)
    with torch.no_grad():
        out = {name: m(images) for name, m in models.items()}
        plain = stage1(images)
    diff = out['cls_stage2'] - out['cls_logit-adjustment']
    assert torch.allclose(diff, diff[:, :1].expand_as(diff), atol=1e-4)
    assert torch.allclose(out['cls_stage2_paper'], plain, atol=1e-6)


def test_seg_and_det_classifiers_start_from_the_prior(tmp_path):
    """The same start for the other tasks: an mmseg DisAlign head reads the
    prior from its G-RW loss, mmdet's DisAlignLinear from the frequency
    file (its background logit keeps no margin)."""
    from mmdet.registry import MODELS as DET_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    import mmlt.detection  # noqa: F401
    import mmlt.segmentation  # noqa: F401
    from mmlt.core.frequency import ClassFrequency
    counts = [900.0, 60.0, 5.0]
    head = SEG_MODELS.build(dict(
        type='DisAlignFCNHead', in_channels=8, channels=8, num_convs=1,
        num_classes=3, start_tau=1.0,
        loss_decode=dict(type='GRWKLLoss', class_counts=counts, rho=1.0)))
    head.init_weights()
    assert torch.allclose(head.conv_seg.calibration.margin,
                          prior_margin(counts, 1.0))
    freq = tmp_path / 'freq.json'
    ClassFrequency.from_counts(['a', 'b', 'c'], counts, 'images').save(freq)
    fc_cls = DET_MODELS.build(dict(type='DisAlignLinear', in_features=8,
                                   out_features=4, start_tau=0.5,
                                   frequency_file=str(freq)))
    fc_cls.init_weights()
    assert fc_cls.calibration.margin.numel() == 3
    assert torch.allclose(fc_cls.calibration.margin,
                          prior_margin(counts, 0.5))
    # as the demo config writes it: the prior from the bbox head's loss,
    # which DisAlignRunner hands over when it builds the model
    bbox_head = DET_MODELS.build(dict(
        type='Shared2FCBBoxHead', in_channels=4, fc_out_channels=8,
        roi_feat_size=2, num_classes=3,
        cls_predictor_cfg=dict(type='DisAlignLinear', start_tau=1.0),
        loss_cls=dict(type='GRWKLLoss', class_counts=counts, rho=1.0,
                      background=True)))
    with pytest.raises(ValueError, match='no class counts to start from'):
        bbox_head.init_weights()  # not silently the identity
    from mmlt.core.stage2_parts import start_from_loss_prior
    assert start_from_loss_prior(bbox_head) == ['fc_cls.calibration']
    bbox_head.init_weights()
    assert torch.allclose(bbox_head.fc_cls.calibration.margin,
                          prior_margin(counts, 1.0))
