# Stage 1 without repeat factor sampling: mmdet's LVIS v1 Mask R-CNN R50-FPN
# 1x, but instance-balanced (uniform) sampling, the DisAlign paper's stage 1
# (public-code baseline: box / mask AP 18.8 / 18.3). mmdet's own
# mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py is the stage 1 with RFS.
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV1Dataset',
        data_root='data/lvis_v1/',
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=_base_.train_pipeline))
