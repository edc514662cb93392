# DisAlign stage 2 for SegFormer MiT-B0 on ADE20K 512x512 (not in the
# paper). Stage 1: segformer_mit-b0_8xb2-160k_ade20k-512x512.py (mmseg's
# config), whose work dir `load_from` names; the commands are those of
# fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py with these two configs
# (8 GPUs), whose stage-2 settings this config repeats on its own stock
# config. SegFormer has no auxiliary head; stage 2 uses the calibration's
# SGD recipe instead of SegFormer's AdamW.
_base_ = 'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/segformer_mit-b0_8xb2-160k_ade20k-512x512'
# the training pixel counts (tools/analysis/class_frequency.py seg)
frequency_file = 'data/ade/ade20k_pixel_frequency.json'
rho = 0.3  # G-RW strength: the paper's value; the public code used 0.2
lr = 0.01
max_iters = 8000  # the paper's stage 2 (the public code: 4k)
# ======================= Unmodified in most cases ===========================

model = dict(
    decode_head=dict(
        type='DisAlignSegformerHead',
        loss_decode=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file=frequency_file,
            rho=rho)))

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
