# DeiT-LT demo, step 2: the tiny distilled ViT student on LT-Digits with the
# frozen CNN teacher of deit_teacher.py in the loop. Same data, augmentation
# and schedule as the plain DeiT (deit_plain.py); in addition:
# - a DIST token and head, trained on the teacher's class for the student's
#   mixed batch (resized from 32 to the teacher's 28 px, bicubic);
# - from epoch K = drw_epoch: Mixup / CutMix off, plain CE for CLS and
#   effective-number (beta 0.9999) weights for the DIST loss.
# Test: CLS, DIST and their average, overall / many / medium / few.
#   python tools/train.py configs/demo/deit_teacher.py
#   python tools/train.py configs/demo/deit_student.py
_base_ = ['./deit_plain.py']
custom_imports = dict(
    imports=['mmlt.classification'], allow_failed_imports=False)

drw_epoch = 64  # K (0-based): the last 16 of 80 epochs (DeiT-LT: 1100/1200)

model = dict(
    type='DeiTLTClassifier',
    backbone=dict(type='DistilledVisionTransformer'),
    head=dict(
        _delete_=True,
        type='DeiTLTClsHead',
        num_classes={{_base_.num_classes}},
        in_channels={{_base_.embed_dims}},
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        cls_weight=0.5,
        dist_weight=0.5,
        drw_beta=0.9999),
    teacher=dict(
        config='{{ fileDirname }}/deit_teacher.py',
        # the teacher run's work dir (its latest checkpoint), or a file
        checkpoint='work_dirs/deit_teacher',
        img_size=28))

custom_hooks = [dict(type='DRWHook', start_epoch=drw_epoch),
                dict(type='FiniteLossHook'), dict(type='RNGStateHook')]

# one test run, three heads: lt_cls/*, lt_dist/*, lt_avg/*
val_evaluator = [
    dict(type='LongTailAccuracy', frequency_file={{_base_.frequency_file}},
         pred_key='cls_score', prefix='lt_cls', per_class_results=True),
    dict(type='LongTailAccuracy', frequency_file={{_base_.frequency_file}},
         pred_key='dist_score', prefix='lt_dist', per_class_results=True),
    dict(type='LongTailAccuracy', frequency_file={{_base_.frequency_file}},
         pred_key='pred_score', prefix='lt_avg', per_class_results=True),
]
test_evaluator = val_evaluator
