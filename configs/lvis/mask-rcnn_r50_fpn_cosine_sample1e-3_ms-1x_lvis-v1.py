# Stage 1 for DisAlign* (cosine): mmdet's LVIS v1 Mask R-CNN R50-FPN 1x with
# RFS, its RoI classifier a cosine classifier (normalised features and
# weights, learnable scale, init 20) instead of the linear one.
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
model = dict(
    roi_head=dict(
        bbox_head=dict(cls_predictor_cfg=dict(type='CosineLinear',
                                              scale=20.0))))
