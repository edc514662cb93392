# DisAlign stage 2 for Mask R-CNN R50-FPN on LVIS v1 (paper, public-code
# runs, box / mask AP: baseline 18.8 / 18.3, DisAlign 21.9 / 21.3).
#
# Stage 1 is a stock mmdet model, trained with mmdet's
# configs/lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py (with RFS) or
# mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py here (without RFS). Then, once,
# the class frequencies:
#   python tools/analysis/class_frequency.py lvis \
#       data/lvis_v1/annotations/lvis_v1_train.json \
#       -o data/lvis_v1/lvis_v1_train_frequency.json
# and stage 2 (8 GPUs x 2 images):
#   tools/dist_train.sh configs/lvis/mask-rcnn_disalign.py 8 \
#       --cfg-options load_from=STAGE1.pth
#   tools/dist_test.sh configs/lvis/mask-rcnn_disalign.py \
#       work_dirs/mask-rcnn_disalign/iter_9000.pth 8
# Everything but the classifiers' calibration is frozen (DisAlignRunner);
# the stage-1 checkpoint loads with only `...fc_cls.calibration.*` new.
_base_ = [
    'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
    './disalign_stage2_lvis-v1.py',
]
model = dict(
    # every weight comes from the stage-1 checkpoint: no ImageNet download
    backbone=dict(init_cfg=None),
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg={{_base_.stage2_cls_predictor}},
            loss_cls={{_base_.stage2_loss_cls}})))
load_from = None  # the stage-1 checkpoint (required)

train_dataloader = {{_base_.stage2_train_dataloader}}
train_cfg = {{_base_.stage2_train_cfg}}
optim_wrapper = {{_base_.stage2_optim_wrapper}}
param_scheduler = {{_base_.stage2_param_scheduler}}
default_hooks = {{_base_.stage2_default_hooks}}
log_processor = {{_base_.stage2_log_processor}}
