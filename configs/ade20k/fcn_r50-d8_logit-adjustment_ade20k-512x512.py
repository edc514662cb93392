# Post-hoc logit adjustment of mmseg's stock FCN R50-D8 on ADE20K 512x512:
# per-pixel z - tau * log(prior), the prior of the training pixel counts
# (the frequency file of disalign_stage2_ade20k.py). Nothing to train:
#   python tools/analysis/choose_tau.py \
#       configs/ade20k/fcn_r50-d8_logit-adjustment_ade20k-512x512.py STAGE1.pth
#   tools/dist_test.sh \
#       configs/ade20k/fcn_r50-d8_logit-adjustment_ade20k-512x512.py \
#       STAGE1.pth 4 --cfg-options model.decode_head.tau=T
_base_ = [
    'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py',
    './disalign_stage2_ade20k.py',
]
model = dict(
    decode_head=dict(
        type='LogitAdjustedFCNHead',
        frequency_file={{_base_.frequency_file}},
        tau=1.0))
val_evaluator = {{_base_.stage2_evaluator}}
test_evaluator = {{_base_.stage2_evaluator}}
