# LT-Digits classification, post-hoc logit adjustment (Menon et al., ICLR
# 2021) of the stage-1 model: z - tau * log(prior), the prior of the
# training counts. Nothing to train; choose tau on val, report test once, on
# the stage-1 run's work dir (its latest checkpoint) or a checkpoint file:
#   python tools/analysis/choose_tau.py configs/demo/cls_logit-adjustment.py \
#       work_dirs/cls_stage1
#   python tools/test.py configs/demo/cls_logit-adjustment.py \
#       work_dirs/cls_stage1 --cfg-options model.head.tau=T
_base_ = ['./cls_stage1.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/cls_stage1'
runner_type = 'DisAlignRunner'  # the stage-2 checks; refuses to train
model = dict(
    head=dict(
        type='LogitAdjustedLinearClsHead',
        frequency_file={{_base_.frequency_file}},
        tau=1.0))  # Menon et al.'s default
