# DisAlign* (cosine classifier) stage 2 for Mask R-CNN R50-FPN on LVIS v1
# (public-code runs, box / mask AP: 24.8 / 24.2, mask APr 13.2).
#
# Stage 1 must have the cosine classifier too (its `fc_cls.scale` is kept):
# mask-rcnn_r50_fpn_cosine_sample1e-3_ms-1x_lvis-v1.py (RFS), whose work dir
# `load_from` names, or mask-rcnn_r50_fpn_cosine_random-ms-1x_lvis-v1.py
# (--cfg-options load_from=work_dirs/mask-rcnn_r50_fpn_cosine_random-ms-1x_lvis-v1,
# or load_from=STAGE1_COSINE.pth for a checkpoint file). Then as for
# mask-rcnn_disalign.py:
#   tools/dist_train.sh configs/lvis/mask-rcnn_r50_fpn_cosine_sample1e-3_ms-1x_lvis-v1.py 8
#   tools/dist_train.sh configs/lvis/mask-rcnn_r50_fpn_disalign-cosine_9k_lvis-v1.py 8
_base_ = '../_base_/stage2/mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py'

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/mask-rcnn_r50_fpn_cosine_sample1e-3_ms-1x_lvis-v1'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='DisAlignCosineLinear', scale=20.0))))
