# DisAlign stage 2 for FCN R50-D8 on ADE20K 512x512 (paper: mIoU 36.1 ->
# 37.5, mAcc 45.4 -> 49.9, single scale).
#
# Stage 1 is mmseg's stock model (160k iterations), trained with
# fcn_r50-d8_4xb4-160k_ade20k-512x512.py here (mmseg's config with the
# stage-2 metric); `load_from` below is that run's work dir (mmseg's
# model-zoo checkpoint instead: --cfg-options load_from=STAGE1.pth). First
# the pixel frequencies of the labels (stage 1's metric reads them too):
#   python tools/analysis/class_frequency.py seg \
#       data/ade/ADEChallengeData2016/annotations/training --num-classes 150 \
#       --reduce-zero-label --classes mmseg.ADE20KDataset \
#       -o data/ade/ade20k_pixel_frequency.json
# Then stage 1 and stage 2:
#   tools/dist_train.sh configs/ade20k/fcn_r50-d8_4xb4-160k_ade20k-512x512.py 4
#   tools/dist_train.sh configs/ade20k/fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py 4
#
# This config is the stock stage-1 config plus everything stage 2 changes;
# the other models' stage-2 configs here repeat the same settings on their
# own stock config (mmengine allows one stock config per chain).
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/fcn_r50-d8_4xb4-160k_ade20k-512x512'
# the training pixel counts (tools/analysis/class_frequency.py seg)
frequency_file = 'data/ade/ade20k_pixel_frequency.json'
rho = 0.3  # G-RW strength: the paper's value; the public code used 0.2
lr = 0.01
max_iters = 8000  # the paper's stage 2 (the public code: 4k)
# ======================= Unmodified in most cases ===========================

model = dict(
    decode_head=dict(
        type='DisAlignFCNHead',
        loss_decode=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file=frequency_file,
            rho=rho)),
    # Frozen in stage 2, the auxiliary head's loss could train nothing: it
    # is dropped (the paper's weight 0). Remove this line to keep it.
    auxiliary_head=None)

# poly schedule
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=5e-4),
    clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=max_iters // 2)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters // 2))
# mIoU / mAcc overall and for the paper's head / body / tail classes (by
# index in ADE20K's frequency order).
val_evaluator = dict(
    _delete_=True,
    type='LongTailIoUMetric',
    # the training pixel counts of the per-class results file
    frequency_file=frequency_file,
    per_class_results=True,
    iou_metrics=['mIoU'],
    class_groups='ade20k')  # head 0-19, body 20-74, tail 75-149
test_evaluator = val_evaluator
