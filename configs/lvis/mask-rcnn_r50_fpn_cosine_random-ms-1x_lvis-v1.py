# Stage 1 for DisAlign* (cosine) without RFS: the cosine RoI classifier and
# instance-balanced (uniform) sampling.
_base_ = './mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
model = dict(
    roi_head=dict(
        bbox_head=dict(cls_predictor_cfg=dict(type='CosineLinear',
                                              scale=20.0))))
