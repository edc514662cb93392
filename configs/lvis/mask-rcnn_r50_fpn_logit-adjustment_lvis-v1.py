# Post-hoc logit adjustment of a stock Mask R-CNN R50-FPN LVIS v1 model's
# RoI classifier: foreground logits z - tau * log(prior) (the prior of the
# per-category image counts), background untouched. Nothing to train: tau
# on val, then test once, on the stage-1 run's work dir (its latest
# checkpoint) or a checkpoint file (STAGE1.pth):
#   python tools/analysis/choose_tau.py \
#       configs/lvis/mask-rcnn_r50_fpn_logit-adjustment_lvis-v1.py \
#       work_dirs/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1
#   tools/dist_test.sh configs/lvis/mask-rcnn_r50_fpn_logit-adjustment_lvis-v1.py \
#       work_dirs/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1 8 --cfg-options \
#       model.roi_head.bbox_head.cls_predictor_cfg.tau=T
_base_ = [
    'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
]
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1'
# images per category of the train set (tools/analysis/class_frequency.py)
frequency_file = 'data/lvis_v1/lvis_v1_train_frequency.json'
tau = 1.0  # Menon et al.'s default; choose it on val (choose_tau.py)
# ======================= Unmodified in most cases ===========================

model = dict(
    backbone=dict(init_cfg=None),  # every weight from the checkpoint
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(
                type='LogitAdjustedLinear', frequency_file=frequency_file,
                tau=tau))))
# mmdet's LVISMetric plus every category's box / mask AP in
# per_class_det.csv / .json next to the log
val_evaluator = dict(type='LongTailLVISMetric', per_class_results=True)
test_evaluator = val_evaluator
