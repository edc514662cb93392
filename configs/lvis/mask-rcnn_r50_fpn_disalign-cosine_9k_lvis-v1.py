# DisAlign* (cosine classifier) stage 2 for Mask R-CNN R50-FPN on LVIS v1
# (public-code runs, box / mask AP: 24.8 / 24.2, mask APr 13.2).
#
# Stage 1 must have the cosine classifier too (its `fc_cls.scale` is kept):
# configs/lvis/mask-rcnn_r50_fpn_cosine_sample1e-3_ms-1x_lvis-v1.py (RFS) or
# mask-rcnn_r50_fpn_cosine_random-ms-1x_lvis-v1.py. Then as for
# mask-rcnn_disalign.py:
#   tools/dist_train.sh configs/lvis/mask-rcnn_r50_fpn_disalign-cosine_9k_lvis-v1.py 8 \
#       --cfg-options load_from=STAGE1_COSINE.pth
_base_ = './mask-rcnn_disalign.py'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='DisAlignCosineLinear', scale=20.0))))
