# DisAlign stage 2 for FCN R50-D8 on ADE20K 512x512 (paper: mIoU 36.1 ->
# 37.5, mAcc 45.4 -> 49.9, single scale).
#
# Stage 1 is mmseg's stock model (160k iterations): train it with mmseg's
# configs/fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py or take it from mmseg's
# model zoo. The pixel frequencies of the labels:
#   python tools/analysis/class_frequency.py seg \
#       data/ade/ADEChallengeData2016/annotations/training --num-classes 150 \
#       --reduce-zero-label --classes mmseg.ADE20KDataset \
#       -o data/ade/ade20k_pixel_frequency.json
# Then stage 2:
#   tools/dist_train.sh configs/ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py 4 \
#       --cfg-options load_from=STAGE1.pth
_base_ = [
    'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py',
    './disalign_stage2_ade20k.py',
]
model = dict(
    decode_head=dict(
        type='DisAlignFCNHead',
        loss_decode={{_base_.stage2_loss_decode}}),
    # Frozen in stage 2, the auxiliary head's loss could train nothing: it
    # is dropped (the paper's weight 0). Remove this line to keep it.
    auxiliary_head=None)
load_from = None  # the stage-1 checkpoint (required)
optim_wrapper = {{_base_.stage2_optim_wrapper}}
param_scheduler = {{_base_.stage2_param_scheduler}}
train_cfg = {{_base_.stage2_train_cfg}}
default_hooks = {{_base_.stage2_default_hooks}}
val_evaluator = {{_base_.stage2_evaluator}}
test_evaluator = {{_base_.stage2_evaluator}}
