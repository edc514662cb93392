# Post-hoc logit adjustment of mmseg's stock FCN R50-D8 on ADE20K 512x512:
# per-pixel z - tau * log(prior), the prior of the training pixel counts
# (the frequency file of fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py).
# Nothing to train:
#   python tools/analysis/choose_tau.py \
#       configs/ade20k/fcn_r50-d8_logit-adjustment_ade20k-512x512.py STAGE1.pth
#   tools/dist_test.sh \
#       configs/ade20k/fcn_r50-d8_logit-adjustment_ade20k-512x512.py \
#       STAGE1.pth 4 --cfg-options model.decode_head.tau=T
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

frequency_file = 'data/ade/ade20k_pixel_frequency.json'
model = dict(
    decode_head=dict(
        type='LogitAdjustedFCNHead',
        frequency_file=frequency_file,
        tau=1.0))
# the metric of the DisAlign configs: mIoU / mAcc overall and for the
# paper's head / body / tail classes
val_evaluator = dict(
    _delete_=True,
    type='LongTailIoUMetric',
    # the training pixel counts of the per-class results file
    frequency_file=frequency_file,
    per_class_results=True,
    iou_metrics=['mIoU'],
    class_groups='ade20k')  # head 0-19, body 20-74, tail 75-149
test_evaluator = val_evaluator
