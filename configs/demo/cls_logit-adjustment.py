# LT-Digits classification, post-hoc logit adjustment (Menon et al., ICLR
# 2021) of the stage-1 model: z - tau * log(prior), the prior of the
# training counts. Nothing to train; choose tau on val, report test once:
#   python tools/analysis/choose_tau.py configs/demo/cls_logit-adjustment.py \
#       work_dirs/demo/cls_stage1/epoch_60.pth
#   python tools/test.py configs/demo/cls_logit-adjustment.py \
#       work_dirs/demo/cls_stage1/epoch_60.pth --cfg-options model.head.tau=T
_base_ = ['./cls_stage1.py']

runner_type = 'DisAlignRunner'  # the stage-2 checks; refuses to train
model = dict(
    head=dict(
        type='LogitAdjustedLinearClsHead',
        frequency_file={{_base_.frequency_file}},
        tau=1.0))  # Menon et al.'s default
