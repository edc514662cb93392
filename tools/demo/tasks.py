"""The demo's task table: data only (which configs, in which order, which
tables); ``runs`` and ``scheduler`` run it, ``report`` prints it.

A task has:

- ``frequency``: the config whose ``frequency_file`` the task's losses and
  metrics read, and the ``tools/analysis/class_frequency.py`` arguments
  that count its training set into that file (``-o`` is added);
- ``runs``, in order, each in ``work_dirs/demo/<task>_<run>``:
  ``trained`` ones (``tools/train.py``, then ``tools/test.py``) and
  ``post_hoc`` ones (``tools/test.py`` on an earlier run's checkpoint);
- its table: ``methods`` (row label, run, metric-key prefix) by ``metrics``
  (column label, metric key), optionally times ``scale``; ``more_tables``
  (title, columns) over the same methods; ``plot``: the per-class file
  (``per_class_<name>.json``) and metric plotted against training counts.
"""
DATA = 'data/lt_digits'
WORK = 'work_dirs/demo'
C = 'configs/demo'


def trained(run, config, load_from=None, teacher=None, seeded=False,
            lane=None):
    """A run trained, then tested. ``load_from`` / ``teacher``: the earlier
    run of the task whose checkpoint the config's ``load_from`` /
    ``model.teacher.checkpoint`` is set to; ``seeded``: once per --seeds
    value (``randomness.seed``); ``lane``: the chain of runs it belongs to
    (default: the task's own)."""
    return dict(run=run, config=config, load_from=load_from, teacher=teacher,
                seeded=seeded, lane=lane)


def post_hoc(run, config, of, choose_tau=True, lane=None):
    """A post-hoc method tested once on the checkpoint of run ``of``: with
    tau chosen on val first (``tools/analysis/choose_tau.py``), or with the
    config's tau (``choose_tau=False``: for data whose val split is also the
    reported one)."""
    return dict(run=run, config=config, of=of, choose_tau=choose_tau,
                lane=lane)


# the shifted test priors of the classification tables, and their keys in
# LongTailAccuracy's metrics (ratio 1: the balanced test set)
SHIFTS = [('fwd 50', 'forward50'), ('fwd 10', 'forward10'),
          ('fwd 5', 'forward5'), ('bal. 1', None), ('bwd 5', 'backward5'),
          ('bwd 10', 'backward10'), ('bwd 50', 'backward50')]

TASKS = {
    'seg': dict(
        title='Semantic segmentation: FCN (ResNet-18/16) + DisAlign, '
        'LT-Digits val (head: background, body: digits 0-4, tail: digits '
        '5-9)',
        frequency=dict(config=f'{C}/seg_stage1.py', args=[
            'seg', f'{DATA}/seg/annotations/training', '--num-classes', '11',
            '--reduce-zero-label', '--classes', f'{DATA}/seg/classes.txt']),
        runs=[
            trained('stage1', f'{C}/seg_stage1.py'),
            trained('stage2', f'{C}/seg_stage2.py', 'stage1', seeded=True),
            trained('stage2_paper', f'{C}/seg_stage2_paper.py', 'stage1',
                    seeded=True),
            # LT-Digits det / seg have a val split only (as LVIS and
            # ADE20K): a tau chosen on it would be chosen on the reported
            # numbers
            post_hoc('logit-adjustment', f'{C}/seg_logit-adjustment.py',
                     'stage1', choose_tau=False)],
        methods=[('stage 1', 'stage1', ''), ('DisAlign', 'stage2', ''),
                 ('DisAlign, paper recipe', 'stage2_paper', ''),
                 ('logit adjustment (tau 1)', 'logit-adjustment', '')],
        metrics=[('mIoU', 'mIoU'), ('mAcc', 'mAcc'),
                 ('IoU head', 'mIoU_head'), ('IoU body', 'mIoU_body'),
                 ('IoU tail', 'mIoU_tail'), ('Acc head', 'mAcc_head'),
                 ('Acc body', 'mAcc_body'), ('Acc tail', 'mAcc_tail')],
        plot=('seg', 'IoU')),
    'det': dict(
        title='Detection and instance segmentation: Mask R-CNN '
        '(ResNet-18/4) + DisAlign, LT-Digits val (LVISMetric, AP in %)',
        # images per category of the train json (LVIS's own image_count)
        frequency=dict(config=f'{C}/det_stage1.py', args=[
            'lvis', f'{DATA}/det/annotations/lvis_v1_train.json']),
        runs=[
            trained('stage1', f'{C}/det_stage1.py'),
            trained('stage2', f'{C}/det_stage2.py', 'stage1', seeded=True),
            trained('stage2_paper', f'{C}/det_stage2_paper.py', 'stage1',
                    seeded=True),
            post_hoc('logit-adjustment', f'{C}/det_logit-adjustment.py',
                     'stage1', choose_tau=False),  # val only, as seg
            post_hoc('tau-norm', f'{C}/det_tau-norm.py', 'stage1',
                     choose_tau=False),
            trained('crt', f'{C}/det_crt.py', 'stage1', seeded=True)],
        methods=[('stage 1', 'stage1', ''), ('DisAlign', 'stage2', ''),
                 ('DisAlign, paper recipe', 'stage2_paper', ''),
                 ('logit adjustment (tau 1)', 'logit-adjustment', ''),
                 ('tau-norm (tau 1)', 'tau-norm', ''), ('cRT', 'crt', '')],
        # LVIS's rare / common / frequent split by train images per
        # category: 1-10 / 11-100 / > 100
        metrics=[(f'{kind} {ap}', f'lvis/{key}_{ap}')
                 for kind, key in (('box', 'bbox'), ('mask', 'segm'))
                 for ap in ('AP', 'APr', 'APc', 'APf')],
        scale=100,  # LVISMetric reports fractions
        plot=('det', 'bbox_AP')),
    'cls': dict(
        title='Classification: ResNet-8, DisAlign and the decoupled '
        'baselines from one stage-1 checkpoint (cosine: its own stage 1), '
        'LT-Digits test, balanced top-1 %; many > 100, medium 20-100, '
        'few < 20 training images',
        # training images per class of the list
        frequency=dict(config=f'{C}/cls_stage1.py', args=[
            'list', f'{DATA}/cls/lt_digits_train.txt', '--classes',
            f'{DATA}/cls/classes.txt']),
        runs=[
            trained('stage1', f'{C}/cls_stage1.py'),
            trained('disalign', f'{C}/cls_stage2.py', 'stage1', seeded=True),
            trained('disalign_paper', f'{C}/cls_stage2_paper.py', 'stage1',
                    seeded=True),
            post_hoc('logit_adjustment', f'{C}/cls_logit-adjustment.py',
                     'stage1'),
            post_hoc('tau_norm', f'{C}/cls_tau-norm.py', 'stage1'),
            trained('crt', f'{C}/cls_crt.py', 'stage1', seeded=True),
            trained('lws', f'{C}/cls_lws.py', 'stage1', seeded=True),
            # the cosine variant has its own stage 1: its own lane
            trained('stage1_cosine', f'{C}/cls_stage1_cosine.py',
                    lane='cls_cosine'),
            trained('disalign_cosine', f'{C}/cls_stage2_cosine.py',
                    'stage1_cosine', seeded=True, lane='cls_cosine'),
            post_hoc('logit_adjustment_cosine',
                     f'{C}/cls_logit-adjustment_cosine.py', 'stage1_cosine',
                     lane='cls_cosine')],
        methods=[('stage 1', 'stage1', ''), ('DisAlign', 'disalign', ''),
                 ('DisAlign, paper recipe', 'disalign_paper', ''),
                 ('logit adjustment', 'logit_adjustment', ''),
                 ('tau-norm', 'tau_norm', ''), ('cRT', 'crt', ''),
                 ('LWS', 'lws', ''), ('cosine stage 1', 'stage1_cosine', ''),
                 ('DisAlign* (cosine)', 'disalign_cosine', ''),
                 ('cosine + logit adj.', 'logit_adjustment_cosine', '')],
        metrics=[('top-1', 'lt/top1'), ('many', 'lt/many'),
                 ('medium', 'lt/medium'), ('few', 'lt/few')],
        # the same runs under other test label priors and their calibration
        more_tables=[
            ('Classification under label shift: top-1 % on the LT-Digits '
             'test set re-sampled to a long-tailed prior (SADE\'s test-'
             'agnostic protocol; fwd: the training order, bwd: reversed; '
             'imbalance 50 / 10 / 5; bal.: the balanced test set)',
             [(label, f'lt/{key}_top1' if key else 'lt/top1')
              for label, key in SHIFTS]),
            ('The same, with the test prior added to each model\'s '
             'log-probabilities (post-hoc logit adjustment to the test prior '
             'for a model that targets the balanced distribution)',
             [(label, f'lt/{key}_top1_prior' if key else 'lt/top1')
              for label, key in SHIFTS]),
            ('Calibration: expected calibration error % (15 bins, as MiSLAS),'
             ' LT-Digits test, overall and of the samples of each group',
             [('ECE', 'lt/ece'), ('many', 'lt/ece_many'),
              ('medium', 'lt/ece_medium'), ('few', 'lt/ece_few')])],
        plot=('lt', 'top1')),
    'deit': dict(
        title='DeiT-LT: tiny ViT student, ResNet-8 teacher (LDAM + DRW + '
        'SAM), LT-Digits test, top-1 %; many > 100, medium 20-100, few < 20 '
        'training images',
        # the classification counts: the logit adjustment's prior
        frequency=dict(config=f'{C}/deit_teacher.py', args=[
            'list', f'{DATA}/cls/lt_digits_train.txt', '--classes',
            f'{DATA}/cls/classes.txt']),
        runs=[
            trained('teacher', f'{C}/deit_teacher.py'),
            trained('student', f'{C}/deit_student.py', teacher='teacher'),
            # the plain DeiT needs no teacher: its own lane
            trained('plain', f'{C}/deit_plain.py', lane='deit_plain'),
            post_hoc('plain_logit_adjustment',
                     f'{C}/deit_plain_logit-adjustment.py', 'plain',
                     lane='deit_plain')],
        methods=[('teacher', 'teacher', 'lt/'),
                 ('plain DeiT', 'plain', 'lt/'),
                 ('plain DeiT + logit adj.', 'plain_logit_adjustment', 'lt/'),
                 ('DeiT-LT CLS', 'student', 'lt_cls/'),
                 ('DeiT-LT DIST', 'student', 'lt_dist/'),
                 ('DeiT-LT average', 'student', 'lt_avg/')],
        metrics=[('overall', 'top1'), ('many', 'many'),
                 ('medium', 'medium'), ('few', 'few')]),
}

# The lanes, longest first as measured, so that no long lane starts last
# (a lane not named here runs after these).
LONGEST_FIRST = ['deit', 'det', 'seg', 'cls', 'deit_plain', 'cls_cosine']
