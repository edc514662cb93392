# Post-hoc tau-normalisation of a stock Mask R-CNN R50-FPN LVIS v1 model's
# foreground classifier rows (background row untouched); tau on val with
# tools/analysis/choose_tau.py, then test once, as for
# mask-rcnn_r50_fpn_logit-adjustment_lvis-v1.py.
_base_ = [
    'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
]
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1'
tau = 1.0  # 1: full normalisation; choose it on val (choose_tau.py)
# ======================= Unmodified in most cases ===========================

model = dict(
    backbone=dict(init_cfg=None),
    roi_head=dict(
        bbox_head=dict(cls_predictor_cfg=dict(type='TauNormLinear',
                                              tau=tau))))
# mmdet's LVISMetric plus every category's box / mask AP in
# per_class_det.csv / .json next to the log
val_evaluator = dict(type='LongTailLVISMetric', per_class_results=True)
test_evaluator = val_evaluator
