# DisAlign stage 2 for Cascade Mask R-CNN R50-FPN on LVIS v1: the RoI
# classifier of every stage calibrated (its own alpha, beta, sigma) and
# trained with the G-RW loss; box regression and the mask head frozen.
#
# Stage 1: cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py. Then
#   tools/dist_train.sh configs/lvis/cascade-mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py 8 \
#       --cfg-options load_from=STAGE1_CASCADE.pth
_base_ = [
    './cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
    './disalign_stage2_lvis-v1.py',
]
stage2_cls_predictor = {{_base_.stage2_cls_predictor}}
stage2_loss_cls = {{_base_.stage2_loss_cls}}
model = dict(
    backbone=dict(init_cfg=None),
    roi_head=dict(
        # A list replaces the stage-1 list whole: the heads are those of the
        # stage-1 config plus the classifier and the loss.
        bbox_head=[
            dict(
                type='Shared2FCBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes={{_base_.num_classes}},
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0., 0., 0., 0.],
                    target_stds=stds),
                reg_class_agnostic=True,
                cls_predictor_cfg=stage2_cls_predictor,
                loss_cls=stage2_loss_cls,
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0,
                               loss_weight=1.0))
            for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                         [0.033, 0.033, 0.067, 0.067])
        ]))
load_from = None  # the stage-1 checkpoint (required)

train_dataloader = {{_base_.stage2_train_dataloader}}
train_cfg = {{_base_.stage2_train_cfg}}
optim_wrapper = {{_base_.stage2_optim_wrapper}}
param_scheduler = {{_base_.stage2_param_scheduler}}
default_hooks = {{_base_.stage2_default_hooks}}
log_processor = {{_base_.stage2_log_processor}}
