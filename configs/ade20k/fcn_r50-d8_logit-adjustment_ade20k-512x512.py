# Post-hoc logit adjustment of mmseg's stock FCN R50-D8 on ADE20K 512x512:
# per-pixel z - tau * log(prior), the prior of the training pixel counts
# (the frequency file of fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py).
# Nothing to train: tau on val, then test once, on the stage-1 run's work
# dir (fcn_r50-d8_4xb4-160k_ade20k-512x512.py; its latest checkpoint) or a
# checkpoint file (STAGE1.pth, e.g. mmseg's model zoo):
#   python tools/analysis/choose_tau.py \
#       configs/ade20k/fcn_r50-d8_logit-adjustment_ade20k-512x512.py \
#       work_dirs/fcn_r50-d8_4xb4-160k_ade20k-512x512
#   tools/dist_test.sh \
#       configs/ade20k/fcn_r50-d8_logit-adjustment_ade20k-512x512.py \
#       work_dirs/fcn_r50-d8_4xb4-160k_ade20k-512x512 4 \
#       --cfg-options model.decode_head.tau=T
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/fcn_r50-d8_4xb4-160k_ade20k-512x512'
# the training pixel counts (tools/analysis/class_frequency.py seg)
frequency_file = 'data/ade/ade20k_pixel_frequency.json'
tau = 1.0  # Menon et al.'s default; choose it on val (choose_tau.py)
# ======================= Unmodified in most cases ===========================

model = dict(
    decode_head=dict(
        type='LogitAdjustedFCNHead',
        frequency_file=frequency_file,
        tau=tau))
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
