# Stage 1 for deeplabv3plus_r50-d8_disalign_4xb4-8k_ade20k-512x512.py: mmseg's
# DeepLabV3+ R50-D8 160k config on ADE20K 512x512, here so that its work dir is
# what the stage-2 config loads; unchanged but for the metric, that of the
# stage-2 configs (mIoU / mAcc for the paper's head / body / tail classes; it
# reads the pixel frequency file: see
# fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py).
#   bash tools/dist_train.sh configs/ade20k/deeplabv3plus_r50-d8_4xb4-160k_ade20k-512x512.py 4
# (mmseg's model-zoo checkpoint of this config can replace the run: the
# stage-2 config's --cfg-options load_from=STAGE1.pth)
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)

frequency_file = 'data/ade/ade20k_pixel_frequency.json'
val_evaluator = dict(
    _delete_=True,
    type='LongTailIoUMetric',
    # the training pixel counts of the per-class results file
    frequency_file=frequency_file,
    per_class_results=True,
    iou_metrics=['mIoU'],
    class_groups='ade20k')  # head 0-19, body 20-74, tail 75-149
test_evaluator = val_evaluator
