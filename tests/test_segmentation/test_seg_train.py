"""DisAlign for segmentation, trained for real on tiny LT-Digits data with
the demo configs and the standard Runner."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


@pytest.fixture(scope='module')
def data_root(lt_digits_seg):
    return lt_digits_seg


def tiny(config, data_root, work_dir, iters, **extra):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].batch_size = 4
    cfg.train_dataloader.dataset.indices = 16
    cfg.val_dataloader.dataset.indices = 8
    cfg.test_dataloader = cfg.val_dataloader
    freq = data_root + 'pixel_frequency.json'
    cfg.val_evaluator.frequency_file = cfg.test_evaluator.frequency_file = freq
    if cfg.model.decode_head.loss_decode.type == 'GRWKLLoss':
        cfg.model.decode_head.loss_decode.frequency_file = freq
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.param_scheduler[0].end = iters
    cfg.merge_from_dict(extra)
    return cfg


@pytest.fixture(scope='module')
def stage1(data_root, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('seg_stage1')
    runner = Runner.from_cfg(
        tiny('configs/demo/seg_stage1.py', data_root, work_dir, 6))
    runner.train()
    return runner, str(work_dir / 'iter_6.pth')


def build_stage2(data_root, work_dir, checkpoint, iters=4,
                 config='configs/demo/seg_stage2.py'):
    cfg = tiny(config, data_root, work_dir, iters, load_from=checkpoint)
    return RUNNERS.build(cfg)


def test_stage2_starts_from_stage1_logits_exactly(data_root, stage1,
                                                  tmp_path):
    """The paper's recipe starts at the identity; mmlt's recipe starts at
    the logit adjustment (tests/test_stage2/test_disalign_recipe.py)."""
    stage1_runner, checkpoint = stage1
    runner = build_stage2(data_root, tmp_path, checkpoint,
                          config='configs/demo/seg_stage2_paper.py')
    runner.load_or_resume()
    batch = next(iter(runner.val_dataloader))
    models = [stage1_runner.model, runner.model]
    logits = []
    for model in models:
        model.eval()
        data = model.data_preprocessor(batch, False)
        with torch.no_grad():
            logits.append(model(data['inputs'], data['data_samples'],
                                mode='tensor'))
    assert torch.equal(logits[0], logits[1])


def test_stage2_trains_only_the_calibration(data_root, stage1, tmp_path):
    _, checkpoint = stage1
    before = torch.load(checkpoint, weights_only=False)['state_dict']
    runner = build_stage2(data_root, tmp_path, checkpoint)
    runner.train()
    after = runner.model.state_dict()
    for key, value in before.items():
        if key.startswith('auxiliary_head.'):
            assert key not in after  # dropped in stage 2
            continue
        assert torch.equal(after[key], value), key  # BN statistics too
    cal = runner.model.decode_head.conv_seg.calibration
    assert not torch.equal(cal.margin, torch.zeros_like(cal.margin))
    assert not torch.equal(cal.magnitude, torch.ones_like(cal.magnitude))
    metrics = runner.test()
    for key in ('mIoU', 'mAcc', 'mIoU_head', 'mIoU_body', 'mIoU_tail',
                'mAcc_head', 'mAcc_body', 'mAcc_tail'):
        assert key in metrics
