# What every DisAlign stage-2 config on ADE20K shares. A model config lists
# it after mmseg's stock config in `_base_`; mmengine forbids keys defined in
# two bases, so the settings that override the stock ones are `stage2_*`
# variables the model config assigns (see fcn_r50-d8_disalign_*.py).
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

frequency_file = 'data/ade/ade20k_pixel_frequency.json'
stage2_loss_decode = dict(
    _delete_=True,
    type='GRWKLLoss',
    frequency_file=frequency_file,
    rho=0.3)  # the paper's value; the public code used 0.2

# The paper's stage 2: 8k iterations (the public code: 4k), poly schedule.
stage2_max_iters = 8000
stage2_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=None)
stage2_param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0,
         end=stage2_max_iters, by_epoch=False)
]
stage2_train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=stage2_max_iters,
    val_interval=stage2_max_iters // 2)
stage2_default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=stage2_max_iters // 2))
# mIoU / mAcc overall and for the paper's head / body / tail classes (by
# index in ADE20K's frequency order).
stage2_evaluator = dict(
    _delete_=True,
    type='LongTailIoUMetric',
    iou_metrics=['mIoU'],
    class_groups=dict(head=(0, 20), body=(20, 75), tail=(75, 150)))
