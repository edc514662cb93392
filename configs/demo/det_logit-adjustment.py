# LT-Digits detection, post-hoc logit adjustment of the stage-1 Mask R-CNN's
# RoI classifier: foreground logits z - tau * log(prior), the prior of the
# per-category image counts; the background logit untouched. Nothing to
# train. tau 1 (Menon et al.'s default): LT-Digits detection has a val split
# only, which the demo reports, so tau is not chosen on it; with a held-out
# split, choose it with tools/analysis/choose_tau.py (lvis/bbox_AP).
_base_ = ['./det_stage1.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/det_stage1'
runner_type = 'DisAlignRunner'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(
                type='LogitAdjustedLinear',
                frequency_file={{_base_.frequency_file}},
                tau=1.0))))
