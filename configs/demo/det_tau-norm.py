# LT-Digits detection, post-hoc tau-normalisation of the stage-1 RoI
# classifier's foreground rows (the background row untouched). tau 1 (full
# normalisation): the demo reports its only split, val, so tau is not chosen
# on it; with a held-out split, use tools/analysis/choose_tau.py.
_base_ = ['./det_stage1.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/det_stage1'
runner_type = 'DisAlignRunner'
model = dict(
    roi_head=dict(
        bbox_head=dict(cls_predictor_cfg=dict(type='TauNormLinear',
                                              tau=1.0))))
