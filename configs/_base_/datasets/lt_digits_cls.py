# LT-Digits classification in the ImageNet-LT layout (`path label` lists):
# 1,088 train digits, 440 of class 0 down to 4 of class 9; balanced val and
# test, 30 per class. Data: `python tools/dataset_converters/make_lt_digits.py`
# (the demo runs it), then the frequency file of the metric and of the
# long-tail losses:
#   python tools/analysis/class_frequency.py list \
#       data/lt_digits/cls/lt_digits_train.txt \
#       --classes data/lt_digits/cls/classes.txt \
#       -o data/lt_digits/cls/image_frequency.json
# A config that changes train_pipeline / test_pipeline sets the dataloaders'
# `dataset=dict(pipeline=...)` again: a base's variables are resolved in
# the base.
dataset_type = 'LongTailListDataset'
data_root = 'data/lt_digits/cls/'
# Training images per class; the metric splits many (> 100) / medium / few
# (< 20) with it, and the long-tail losses re-weight with it.
frequency_file = data_root + 'image_frequency.json'
num_classes = 10

data_preprocessor = dict(
    num_classes=num_classes,
    # MNIST's mean / std (0.1307, 0.3081) in 0..255; the PNGs are grey RGB
    mean=[33.3, 33.3, 33.3],
    std=[78.6, 78.6, 78.6],
    to_rgb=False)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    # no flips: a mirrored digit is not the same digit; shifts of up to
    # 2 px, the image keeping its size
    dict(type='RandomShift', padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='lt_digits_train.txt',
        classes=data_root + 'classes.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='lt_digits_val.txt',
        classes=data_root + 'classes.txt',
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='lt_digits_test.txt'))
# many / medium / few by the training counts of the frequency file
# the per-class top-1 in the metrics (10 classes: a short list) and in a
# file next to the log (the demo's plots), the calibration error and top-1
# on test sets re-sampled to other label priors (the demo's tables)
val_evaluator = dict(
    type='LongTailAccuracy',
    frequency_file=frequency_file,
    classwise=True,
    per_class_results=True,
    ece_bins=15,
    label_shift=dict(imbalance=(5, 10, 50), adjust=True))
test_evaluator = val_evaluator
