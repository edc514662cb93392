# DisAlign stage 2 for SegFormer MiT-B0 on ADE20K 512x512 (not in the
# paper). Stage 1 is mmseg's segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py;
# the commands are those of fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py,
# whose stage-2 settings this config repeats on its own stock config.
# SegFormer has no auxiliary head; stage 2 uses the calibration's SGD recipe
# instead of SegFormer's AdamW.
_base_ = 'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

frequency_file = 'data/ade/ade20k_pixel_frequency.json'
model = dict(
    decode_head=dict(
        type='DisAlignSegformerHead',
        loss_decode=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file=frequency_file,
            rho=0.3)))  # the paper's value; the public code used 0.2
load_from = None  # the stage-1 checkpoint (required)

# The paper's stage 2: 8k iterations (the public code: 4k), poly schedule.
max_iters = 8000
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
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
