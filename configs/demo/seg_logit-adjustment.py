# LT-Digits segmentation, post-hoc logit adjustment of the stage-1 FCN:
# per-pixel z - tau * log(prior), the prior of the training pixel counts.
# Nothing to train. tau 1 (Menon et al.'s default): the demo reports its only
# split, val; with a held-out split, use tools/analysis/choose_tau.py (mIoU).
_base_ = ['./seg_stage1.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/seg_stage1'
runner_type = 'DisAlignRunner'
model = dict(
    decode_head=dict(
        type='LogitAdjustedFCNHead',
        frequency_file={{_base_.frequency_file}},
        tau=1.0))
